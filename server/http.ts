/**
 * Helpers for the binary route handlers under app/api: JSON errors that the UI shows verbatim,
 * PetromapError tags → HTTP statuses.
 */
import { z } from 'zod';
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


/** Query of every slice-shaped route: axis, index in the voxels of `level`, pyramid level. */
export const sliceQuery = z.object({
  axis: z.enum(['z', 'y', 'x']).default('z'),
  index: z.coerce.number().int().min(0),
  level: z.coerce.number().int().min(0).default(0),
});

/**
 * A GET handler for `/api/projects/:projectId/...` or `/api/datasets/:datasetId/...`: checks the id,
 * parses the query with zod (400 with the reasons), maps errors to statuses with their message.
 */
export function idRoute<S extends z.ZodType>(
  what: string,
  schema: S,
  handle: (id: string, q: z.infer<S>, req: Request) => Promise<Response>,
) {
  return async (req: Request, { params }: { params: Promise<Record<string, string>> }) => {
    const p = await params;
    const id = p.projectId ?? p.datasetId ?? '';
    if (!ID_RE.test(id)) return jsonError(`There is no ${p.projectId !== undefined ? 'project' : 'dataset'} ${id}.`, 404);
    const q = schema.safeParse(Object.fromEntries(new URL(req.url).searchParams));
    if (!q.success) return jsonError(`Bad request for ${what}: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400);
    try {
      return await handle(id, q.data, req);
    } catch (err) {
      return errorResponse(err, what);
    }
  };
}

export const pngResponse = (bytes: Uint8Array, cache = 'no-store') =>
  new Response(Buffer.from(bytes), { headers: { 'Content-Type': 'image/png', 'Cache-Control': cache } });
