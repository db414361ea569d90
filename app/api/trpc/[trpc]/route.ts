import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { appRouter } from '@/server/routers/_app';
import { createContext, MAX_BATCH_SIZE, MAX_TRPC_BODY_BYTES } from '@/server/trpc';
import { readBodyCapped } from '@/server/http';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const handle = (req: Request) =>
  fetchRequestHandler({
    endpoint: '/api/trpc',
    req,
    router: appRouter,
    createContext,
    maxBatchSize: MAX_BATCH_SIZE,
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`tRPC ${path ?? '?'} failed:`, error.cause ?? error);
    },
  });

/** Inputs are small JSON (ids, settings, at most a few hundred landmarks): bodies are capped before parsing. */
async function handler(req: Request) {
  if (req.method === 'GET' || req.method === 'HEAD') return handle(req);
  const b = await readBodyCapped(req, MAX_TRPC_BODY_BYTES, 'This request');
  if (!b.ok) return b.response;
  return handle(new Request(req.url, { method: req.method, headers: req.headers, body: b.body, signal: req.signal }));
}

export { handler as GET, handler as POST };
