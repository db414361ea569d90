/**
 * `petromap workers [--redis URL] [--json]`: the `petromap worker` processes connected to Redis
 * (PETROMAP_REDIS_URL): host, pid, version, threads, bricks in hand, bricks done, throughput.
 */
import { IDENTITY, identityText, redactUrl, redisUrlFromEnv, sameIdentity } from '../cluster/config';
import { listClusterWorkers } from '../cluster/heartbeat-node';
import { invalidInput } from '../errors';
import { parseCommandArgs } from './args';

export const USAGE = `usage: petromap workers [--redis redis://[user:password@]host:port] [--format text|json | --json]   (default Redis: PETROMAP_REDIS_URL)
  Lists the "petromap worker" processes connected to Redis: host, pid, version, threads, bricks in hand, done, failed, Mvoxel/s.
  --json (= --format json): a JSON array on stdout, one object per worker:
  [{ id, host, pid, identity: { petromap, ... }, threads, concurrency, inHand: ["<run> <box>"], bricksDone, bricksFailed,
  voxelsPerSecond, at: last heartbeat (ms since 1970) }].`;

const SPEC = {
  usage: USAGE,
  options: { redis: { kind: 'string' }, format: { kind: 'string', choices: ['text', 'json'] }, json: { kind: 'flag' } },
} as const;

export async function main(argv: string[]): Promise<number> {
  const { values: a } = parseCommandArgs(argv, SPEC);
  const url = a.redis ?? redisUrlFromEnv();
  if (!url) throw invalidInput(`No Redis to ask: set PETROMAP_REDIS_URL=redis://host:port (or pass --redis). ${USAGE}`);
  const ws = await listClusterWorkers(url);
  if (a.format === 'json' || a.json) {
    console.log(JSON.stringify(ws, null, 2));
    return 0;
  }
  if (!ws.length) {
    console.log(`no workers connected to ${redactUrl(url)}`);
    return 0;
  }
  const rows = ws.map((w) => [
    w.host, String(w.pid), w.identity.petromap + (sameIdentity(w.identity, IDENTITY) ? '' : ' (other)'), String(w.threads), String(w.concurrency),
    w.inHand.length ? w.inHand.map((s) => { const [run, box] = s.split(' '); return `${run!.slice(0, 8)}:${box}`; }).join(',') : '-',
    String(w.bricksDone), String(w.bricksFailed), (w.voxelsPerSecond / 1e6).toFixed(2), `${Math.round((Date.now() - w.at) / 1000)} s`,
  ]);
  const head = ['host', 'pid', 'version', 'threads', 'conc.', 'bricks in hand', 'done', 'failed', 'Mvox/s', 'seen'];
  const wd = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [head, ...rows]) console.log(row.map((c, i) => c.padEnd(wd[i]!)).join('  '));
  const other = ws.filter((w) => !sameIdentity(w.identity, IDENTITY));
  if (other.length) console.log(`\n${other.length} worker(s) run another version than this ${identityText(IDENTITY)}: they take no bricks from it.`);
  return 0;
}
