/**
 * The one table from lib's PetromapError tags to what a client receives: the HTTP status of the
 * binary routes (server/http.ts) and the tRPC code of the procedures (server/trpc.ts), which tRPC
 * turns into the same HTTP status (tRPC has no 507: a full disk is a server-side 500 there).
 * 'Internal' is an error nobody tagged (a bug): 500, never the user's input.
 */
import type { TRPCError } from '@trpc/server';
import { isPetromapError, type PetromapErrorTag } from '@/lib/errors';

export const ERROR_STATUS: Record<PetromapErrorTag, { status: number; trpc: TRPCError['code'] }> = {
  InvalidInput: { status: 400, trpc: 'BAD_REQUEST' },
  NotFound: { status: 404, trpc: 'NOT_FOUND' },
  Conflict: { status: 409, trpc: 'CONFLICT' },
  Unsupported: { status: 415, trpc: 'UNSUPPORTED_MEDIA_TYPE' },
  Unprocessable: { status: 422, trpc: 'UNPROCESSABLE_CONTENT' },
  Aborted: { status: 499, trpc: 'CLIENT_CLOSED_REQUEST' },
  Internal: { status: 500, trpc: 'INTERNAL_SERVER_ERROR' },
  DiskFull: { status: 507, trpc: 'INTERNAL_SERVER_ERROR' },
};

/** HTTP status of any thrown value: its tag's, or 500 for anything untagged. */
export function statusOf(err: unknown): number {
  return isPetromapError(err) ? ERROR_STATUS[err._tag].status : 500;
}

/** tRPC code of any thrown value: its tag's, or INTERNAL_SERVER_ERROR. */
export function trpcCodeOf(err: unknown): TRPCError['code'] {
  return isPetromapError(err) ? ERROR_STATUS[err._tag].trpc : 'INTERNAL_SERVER_ERROR';
}
