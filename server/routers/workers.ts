/**
 * The Workers view (issue 14): in the embedded default there is no queue and jobs run in this
 * server; with PETROMAP_REDIS_URL the `petromap worker` processes connected to Redis (host,
 * threads, brick in hand, throughput), read from their heartbeats through the compute host.
 */
import { runTask } from '../jobs/run-task';
import { publicProcedure, router } from '../trpc';

export const workersRouter = router({
  list: publicProcedure.query(async () => {
    const redisUrl = process.env.PETROMAP_REDIS_URL?.trim();
    if (!redisUrl) return { mode: 'embedded' as const, redis: null, error: null, workers: [] };
    const r = await runTask('clusterWorkers', { redisUrl }, { shared: true });
    return { mode: 'distributed' as const, redis: r.redis, error: r.ok ? null : r.error, workers: r.workers };
  }),
});
