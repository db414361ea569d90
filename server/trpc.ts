/**
 * tRPC init: context (the process's services), superjson, and the one place where lib's
 * PetromapError tags become tRPC error codes, so the client shows the message as written. A bad
 * input (zod) reads as its fields and problems in plain words (server/input-issues.ts), not zod's
 * JSON issue array; the issues stay in the error's data (`inputIssues`) for the client.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { isPetromapError } from '@/lib/errors';
import { trpcCodeOf } from './errors';
import { inputIssues, inputIssuesMessage, isZodError } from './input-issues';
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
  errorFormatter({ shape, error }) {
    if (error.code !== 'BAD_REQUEST' || !isZodError(error.cause)) return shape;
    // also for an input error that did not pass mapErrors: the plain message, and the issues as data
    return { ...shape, message: inputIssuesMessage(error.cause), data: { ...shape.data, inputIssues: inputIssues(error.cause) } };
  },
});

/**
 * Every procedure maps PetromapError to the matching tRPC code (server/errors.ts, the table the
 * binary routes use too), and words its input's zod error (the input parser runs inside `next`).
 */
const mapErrors = t.middleware(async ({ next }) => {
  const res = await next();
  if (!res.ok && res.error.code === 'BAD_REQUEST' && isZodError(res.error.cause)) {
    const e = res.error.cause;
    return { ...res, error: new TRPCError({ code: 'BAD_REQUEST', message: inputIssuesMessage(e), cause: e }) } as typeof res;
  }
  if (!res.ok && res.error.cause && isPetromapError(res.error.cause)) {
    const e = res.error.cause;
    return { ...res, error: new TRPCError({ code: trpcCodeOf(e), message: e.message, cause: e }) } as typeof res;
  }
  return res;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(mapErrors);
export const createCallerFactory = t.createCallerFactory;
