/**
 * Worker heartbeats: every HEARTBEAT_MS a `petromap worker` writes `petromap:worker:<id>` (JSON,
 * TTL HEARTBEAT_TTL_S), so a worker that dies disappears from the list within the TTL.
 * listWorkers is what `petromap workers` (and a Workers page) shows.
 */
import type { Redis } from 'ioredis';
import { HEARTBEAT_TTL_S, KEYS, type ClusterIdentity } from './config';

export interface WorkerHeartbeat {
  id: string;
  host: string;
  pid: number;
  identity: ClusterIdentity;
  workspace: string;
  threads: number;
  concurrency: number;
  /** bricks being computed now ("<runId> z_y_x") */
  inHand: string[];
  bricksDone: number;
  bricksFailed: number;
  /** voxels per second over the last minute of bricks (0 when idle) */
  voxelsPerSecond: number;
  startedAt: number;
  /** when this heartbeat was written (ms since epoch) */
  at: number;
}

export async function writeHeartbeat(r: Redis, hb: WorkerHeartbeat): Promise<void> {
  await r.set(KEYS.worker(hb.id), JSON.stringify(hb), 'EX', HEARTBEAT_TTL_S);
}

export async function removeHeartbeat(r: Redis, id: string): Promise<void> {
  await r.del(KEYS.worker(id));
}

/** Live workers (heartbeat within the TTL), sorted by host and pid. */
export async function listWorkers(r: Redis): Promise<WorkerHeartbeat[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', KEYS.workerPattern, 'COUNT', 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (!keys.length) return [];
  const vals = await r.mget(...keys);
  const out: WorkerHeartbeat[] = [];
  for (const v of vals) {
    if (!v) continue;
    try {
      out.push(JSON.parse(v) as WorkerHeartbeat);
    } catch {
      /* a foreign key under our prefix: skip */
    }
  }
  return out.sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid);
}

/** Throughput over a sliding window of finished bricks. */
export class Throughput {
  private samples: { at: number; voxels: number }[] = [];
  constructor(private windowMs = 60_000) {}
  add(voxels: number, at = Date.now()) {
    this.samples.push({ at, voxels });
  }
  perSecond(now = Date.now(), busySince?: number): number {
    this.samples = this.samples.filter((s) => now - s.at <= this.windowMs);
    if (!this.samples.length) return 0;
    const from = Math.min(this.samples[0]!.at, busySince ?? Infinity);
    const span = Math.max(1, now - Math.min(from, now - 1000));
    return (this.samples.reduce((s, x) => s + x.voxels, 0) * 1000) / span;
  }
}

/** For a Workers view (server, CLI): the live workers on the Redis at `redisUrl` (own short-lived connection). */
export async function listClusterWorkers(redisUrl: string): Promise<WorkerHeartbeat[]> {
  const { openRedis, waitConnected } = await import('./redis-node');
  const r = openRedis(redisUrl);
  try {
    await waitConnected(r, redisUrl, 5000);
    return await listWorkers(r);
  } finally {
    r.disconnect();
  }
}
