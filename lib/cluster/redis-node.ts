/**
 * Redis connections of the distributed mode (ioredis, as BullMQ uses it). Reconnects forever with
 * a capped backoff, so a Redis restart is waited out rather than failing the run; commands issued
 * while disconnected wait in ioredis's offline queue (maxRetriesPerRequest: null, as BullMQ
 * requires for workers).
 */
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { PetromapError } from '../errors';
import { IDENTITY, KEYS, identityText, redactUrl, redisOptionsFromUrl, sameIdentity, type ClusterIdentity } from './config';

/** For BullMQ's `connection` (it creates and duplicates its own ioredis clients from these). */
export function connectionOptions(url: string): BullRedisOptions {
  return {
    ...redisOptionsFromUrl(url),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: `petromap-${process.pid}`,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

export function openRedis(url: string, extra: Partial<RedisOptions> = {}): Redis {
  const r = new Redis({ ...(connectionOptions(url) as RedisOptions), ...extra });
  r.on('error', () => {}); // reconnects on its own; a first-connect failure surfaces as command errors
  return r;
}

/** Resolves once connected; a clear error after `ms` (wrong host, wrong password, no server). */
export async function waitConnected(r: Redis, url: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < ms) {
    try {
      await Promise.race([r.ping(), new Promise((_, rej) => setTimeout(() => rej(new Error('no answer')), 2000))]);
      return;
    } catch (err) {
      last = err;
      const m = String((err as Error)?.message ?? err);
      if (/NOAUTH|WRONGPASS|NOPERM|invalid password|AUTH/i.test(m)) {
        throw new PetromapError('InvalidInput', `Redis at ${redactUrl(url)} refused the login (${m}): put the password (and ACL user) in PETROMAP_REDIS_URL as redis://user:password@host:port.`);
      }
      await new Promise((res) => setTimeout(res, 250));
    }
  }
  throw new PetromapError('Unprocessable', `Cannot reach Redis at ${redactUrl(url)} (${String((last as Error)?.message ?? last)}). Start redis-server there or fix PETROMAP_REDIS_URL.`);
}

/** The identity a coordinator wrote, or null when none has started against this Redis yet. */
export async function readIdentity(r: Redis): Promise<ClusterIdentity | null> {
  const s = await r.get(KEYS.version);
  if (!s) return null;
  try {
    return JSON.parse(s) as ClusterIdentity;
  } catch {
    return null;
  }
}

/** Throws a clear message when the coordinator that wrote `petromap:version` runs another petromap. */
export function refuseOtherIdentity(theirs: ClusterIdentity | null, url: string): void {
  if (!theirs || sameIdentity(theirs, IDENTITY)) return;
  throw new PetromapError(
    'Conflict',
    `The coordinator using Redis ${redactUrl(url)} runs ${identityText(theirs)}, but this worker is ${identityText(IDENTITY)}. ` +
      'Bricks computed by another version could differ, so this worker does not start: install the same petromap version on every machine (npm ci in the same checkout), or point PETROMAP_REDIS_URL at another Redis.',
  );
}
