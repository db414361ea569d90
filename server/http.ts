/**
 * Helpers for the binary route handlers under app/api: JSON errors that the UI shows verbatim,
 * PetromapError tags → HTTP statuses (server/errors.ts), the Host/Origin guard for routes outside proxy.ts, and
 * request bodies read with a size cap.
 */
import { z } from 'zod';
import { isPetromapError } from '@/lib/errors';
import { statusOf } from './errors';
import { inputIssuesMessage } from './input-issues';
import { checkRequest, guardConfigFromEnv, type GuardConfig } from './http-guard';

export function jsonError(message: string, status: number) {
  return Response.json({ error: message }, { status });
}

export function errorResponse(err: unknown, what: string) {
  if (isPetromapError(err) && err._tag !== 'Internal') return jsonError(err.message, statusOf(err));
  console.error(`${what} failed:`, err);
  return jsonError(`${what} failed on the server: ${err instanceof Error ? err.message : String(err)}`, 500);
}

export const ID_RE = /^[a-z0-9]{1,64}$/i;

/**
 * The binary routes' answer (400) to a query zod refused, in the words the tRPC procedures use
 * (server/input-issues.ts): "The request for the label slice was not understood. Index: must be at
 * least 0." `what` names what was asked for ("the label slice").
 */
export function badQueryResponse(what: string, err: z.core.$ZodError): Response {
  return jsonError(`The request for ${what} was not understood. ${inputIssuesMessage(err)}`, 400);
}

/** Upper bounds of query numbers: far above any real volume, low enough to keep work bounded. */
export const MAX_SLICE_INDEX = 1_000_000;
export const MAX_PYRAMID_LEVEL = 16;

/** Query of every slice-shaped route: axis, index in the voxels of `level`, pyramid level. */
export const sliceQuery = z.object({
  axis: z.enum(['z', 'y', 'x']).default('z'),
  index: z.coerce.number().int().min(0).max(MAX_SLICE_INDEX),
  level: z.coerce.number().int().min(0).max(MAX_PYRAMID_LEVEL).default(0),
});

let guardCfg: { key: string; cfg: GuardConfig } | undefined;

/**
 * The Host/Origin guard of proxy.ts (server/http-guard.ts) for the routes proxy.ts leaves out
 * because they stream large bodies: a refusal response, or null to go on.
 */
export function guardResponse(req: Request): Response | null {
  const env = process.env;
  const key = `${env.HOST ?? ''}|${env.__NEXT_PRIVATE_ORIGIN ?? ''}|${env.PETROMAP_ALLOWED_HOSTS ?? ''}`;
  if (guardCfg?.key !== key) guardCfg = { key, cfg: guardConfigFromEnv(env) };
  const d = checkRequest({ method: req.method, header: (n) => req.headers.get(n) }, guardCfg.cfg);
  return d.ok ? null : jsonError(d.reason, d.status);
}

export type CappedBody = { ok: true; body: Uint8Array<ArrayBuffer> } | { ok: false; response: Response };

/**
 * The request body, at most `maxBytes`: a Content-Length above the cap is refused before anything
 * is read, and a longer (or chunked) body is refused as soon as the cap is passed, with 413 and a
 * message naming `what`.
 */
export async function readBodyCapped(req: Request, maxBytes: number, what: string): Promise<CappedBody> {
  const tooLarge = (n: string) =>
    ({ ok: false, response: jsonError(`${what}: the request body is ${n} bytes, more than the ${maxBytes} bytes expected. Reload the page: the volume may have changed.`, 413) }) as const;
  const declared = req.headers.get('content-length');
  if (declared !== null) {
    const n = Number(declared);
    if (!Number.isSafeInteger(n) || n < 0) return { ok: false, response: jsonError(`${what}: bad Content-Length "${declared}".`, 400) };
    if (n > maxBytes) return tooLarge(String(n));
  }
  if (!req.body) return { ok: true, body: new Uint8Array(0) };
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return tooLarge(`over ${maxBytes}`);
      }
      parts.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const body = new Uint8Array(total);
  let o = 0;
  for (const p of parts) (body.set(p, o), (o += p.byteLength));
  return { ok: true, body };
}

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
    if (!q.success) return badQueryResponse(what, q.error);
    try {
      return await handle(id, q.data, req);
    } catch (err) {
      return errorResponse(err, what);
    }
  };
}

/**
 * What a guarded project route (PUT bodies streamed past proxy.ts) checks first: the Host/Origin
 * guard, the project id, the query with zod; `{ error }` is the refusal response (403/404/400 of
 * badQueryResponse), else the project id and the parsed query. `what` names what is asked for
 * ("the painted slice").
 */
export async function parseGuardedProjectQuery<S extends z.ZodType>(
  req: Request,
  params: Promise<{ projectId: string }>,
  schema: S,
  what: string,
): Promise<{ error: Response; projectId?: undefined; q?: undefined } | { error?: undefined; projectId: string; q: z.infer<S> }> {
  const refused = guardResponse(req);
  if (refused) return { error: refused };
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return { error: jsonError(`There is no project ${projectId}.`, 404) };
  const q = schema.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return { error: badQueryResponse(what, q.error) };
  return { projectId, q: q.data };
}

export const pngResponse = (bytes: Uint8Array, cache = 'no-store') =>
  new Response(Buffer.from(bytes), { headers: { 'Content-Type': 'image/png', 'Cache-Control': cache } });
