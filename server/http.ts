/**
 * Helpers for the binary route handlers under app/api: JSON errors that the UI shows verbatim,
 * PetromapError tags → HTTP statuses.
 */
import { isPetromapError, type PetromapErrorTag } from '@/lib/errors';

const STATUS: Record<PetromapErrorTag, number> = {
  InvalidInput: 400,
  Unsupported: 415,
  Unprocessable: 422,
  NotFound: 404,
  Aborted: 499,
  Conflict: 409,
  DiskFull: 507,
};

export function jsonError(message: string, status: number) {
  return Response.json({ error: message }, { status });
}

export function errorResponse(err: unknown, what: string) {
  if (isPetromapError(err)) return jsonError(err.message, STATUS[err._tag]);
  console.error(`${what} failed:`, err);
  return jsonError(`${what} failed on the server: ${err instanceof Error ? err.message : String(err)}`, 500);
}

export const ID_RE = /^[a-z0-9]{1,64}$/i;
