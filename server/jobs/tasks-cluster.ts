/**
 * Cluster tasks (issue 14), run in the compute host like every heavy or network-bound step, so
 * the web bundle never loads BullMQ/ioredis: the workers connected to Redis, as `petromap workers`
 * lists them (lib/cluster heartbeats).
 */
import { listClusterWorkers } from '@/lib/cluster/heartbeat-node';
import { redactUrl } from '@/lib/cluster/config';

export async function clusterWorkers(a: { redisUrl: string }) {
  try {
    return { ok: true as const, redis: redactUrl(a.redisUrl), workers: await listClusterWorkers(a.redisUrl) };
  } catch (err) {
    // Redis away: say so on the page instead of failing the query
    return { ok: false as const, redis: redactUrl(a.redisUrl), error: (err as Error).message.split('\n')[0]!.slice(0, 300), workers: [] };
  }
}
