/**
 * tRPC init: context (the process's services), superjson, and the one place where lib's
 * PetromapError tags become tRPC error codes, so the client shows the message as written.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { isPetromapError } from '@/lib/errors';
import { trpcCodeOf } from './errors';
import { services } from './services';

export const createContext = async () => ({ svc: services() });

/**
 * Batched calls per HTTP request (app/api/trpc route, fetchRequestHandler maxBatchSize) and the
 * largest request body; the client's httpBatchLink sends at most MAX_BATCH_SIZE per batch.
 */
export const MAX_BATCH_SIZE = 20;
export const MAX_TRPC_BODY_BYTES = 1024 * 1024;
export type Context = Awaited<ReturnType<typeof createContext>>;

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape }) {
    return shape;
  },
});

/** Every procedure maps PetromapError to the matching tRPC code (server/errors.ts, the table the binary routes use too). */
const mapErrors = t.middleware(async ({ next }) => {
  const res = await next();
  if (!res.ok && res.error.cause && isPetromapError(res.error.cause)) {
    const e = res.error.cause;
    return { ...res, error: new TRPCError({ code: trpcCodeOf(e), message: e.message, cause: e }) } as typeof res;
  }
  return res;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(mapErrors);
export const createCallerFactory = t.createCallerFactory;
