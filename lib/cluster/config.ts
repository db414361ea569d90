/**
 * Distributed mode (issue 14): what the coordinator and the `petromap worker` processes agree on.
 *
 * - PETROMAP_REDIS_URL=redis://[user:password@]host:port[/db] switches it on (rediss:// for TLS).
 * - The queue name carries the petromap version, the model format and the brick protocol, so a
 *   worker of another version never takes a brick it would compute differently; on top of that a
 *   worker checks the `petromap:version` key the coordinator writes and refuses to start with a
 *   message saying which versions differ.
 * - A brick job carries ids and boxes, never data: paths RELATIVE to the workspace root, which
 *   every machine mounts (NFS, SMB, Lustre) and names itself (PETROMAP_DATA or --workspace).
 *   resolveInWorkspace refuses any path that leaves the workspace.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import pkg from '../../package.json';
import { MODEL_FORMAT } from '../classify/model-io-node';
import type { SurfacePlane } from '../classify/mirror';
import { PetromapError, invalidInput } from '../errors';
import type { Box3 } from '../volume/types';

/**
 * Bumped when the brick job payload or the meaning of a brick changes (2: feature bricks of training
 * sets; 3: prediction bricks carry their run's id, outRunId, and a worker writes a brick only while
 * the output folder holds that run).
 */
export const BRICK_PROTOCOL = 3;
export const PETROMAP_VERSION: string = pkg.version;

/** What must match between the coordinator and every worker. */
export interface ClusterIdentity {
  petromap: string;
  modelFormat: string;
  protocol: number;
}
// model format = model.json's format + version (ModelFile.version in model-io-node); the feature bank's
// code travels with the petromap version
export const IDENTITY: ClusterIdentity = { petromap: PETROMAP_VERSION, modelFormat: `${MODEL_FORMAT}/1`, protocol: BRICK_PROTOCOL };
export const sameIdentity = (a: ClusterIdentity, b: ClusterIdentity) => a.petromap === b.petromap && a.modelFormat === b.modelFormat && a.protocol === b.protocol;
export const identityText = (i: ClusterIdentity) => `petromap ${i.petromap} (model format ${i.modelFormat}, brick protocol ${i.protocol})`;

const slug = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, '-');
/** BullMQ queue of prediction bricks (children) and of runs (parents), one pair per identity. */
export const QUEUE_BRICKS = `petromap-predict-bricks-${slug(PETROMAP_VERSION)}-${slug(IDENTITY.modelFormat)}-p${BRICK_PROTOCOL}`;
export const QUEUE_RUNS = `petromap-predict-runs-${slug(PETROMAP_VERSION)}-${slug(IDENTITY.modelFormat)}-p${BRICK_PROTOCOL}`;

export const KEYS = {
  /** JSON ClusterIdentity written by every coordinator start */
  version: 'petromap:version',
  /** one per live worker, JSON WorkerHeartbeat, with a TTL */
  worker: (id: string) => `petromap:worker:${id}`,
  workerPattern: 'petromap:worker:*',
  /** set (with a TTL) when a run is cancelled; workers check it before each brick */
  cancel: (runId: string) => `petromap:cancel:${runId}`,
  /** pub/sub channel: a run id published here makes every worker abort its bricks of that run */
  cancelChannel: 'petromap:cancel',
};

/** Worker timing: see docs/scale-out.md ("Faults"). */
export const DEFAULT_LOCK_MS = 30_000;
export const DEFAULT_STALLED_MS = 15_000;
export const HEARTBEAT_MS = 5_000;
export const HEARTBEAT_TTL_S = 20;
/** attempts per brick (first run included) and the first backoff delay (doubles each retry) */
export const BRICK_ATTEMPTS = 4;
export const BRICK_BACKOFF_MS = 2_000;

/** The payload of one prediction brick job: ids and boxes only. */
export interface BrickJobData {
  /** absent in prediction bricks (the first kind) */
  kind?: 'predict';
  /** the BullMQ flow (one per coordinator start) */
  runId: string;
  /** the prediction run (predict.json runId): the brick is refused when the output folder holds another run */
  outRunId: string;
  identity: ClusterIdentity;
  /** relative to the workspace root */
  storePath: string;
  modelDir: string;
  outDir: string;
  box: Box3;
  mirror: SurfacePlane | null;
}

/**
 * The payload of one feature brick of a training set (lib/cluster/feature-queue-node.ts): the
 * worker reads the run's parameters (`<runDir>/run.json`) and the labelled voxels of box `index`
 * (`<runDir>/voxels-<index>.i32`), and writes their feature rows (`<runDir>/rows-<index>.f32`).
 */
export interface FeatureJobData {
  kind: 'features';
  runId: string;
  identity: ClusterIdentity;
  /** relative to the workspace root */
  storePath: string;
  runDir: string;
  index: number;
  box: Box3;
}

/** Any job of the bricks queue. */
export type AnyBrickJobData = BrickJobData | FeatureJobData;

export interface BrickJobResult {
  /** 'written': computed and stored here; 'skipped': its .done marker was already there */
  outcome: 'written' | 'skipped';
  ms: number;
  voxels: number;
  worker: string;
  startedAt: number;
  endedAt: number;
}

/** ioredis options from a redis:// or rediss:// URL (user, password and db included). */
export function redisOptionsFromUrl(url: string): { host: string; port: number; username?: string; password?: string; db?: number; tls?: object } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidInput(`PETROMAP_REDIS_URL "${redactUrl(url)}" is not a URL; use redis://[user:password@]host:port.`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw invalidInput(`PETROMAP_REDIS_URL must start with redis:// or rediss://, not "${u.protocol}//".`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) throw invalidInput(`PETROMAP_REDIS_URL: "${u.pathname}" is not a database number.`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** The Redis URL of the distributed mode, or null (embedded default). */
export const redisUrlFromEnv = (env: NodeJS.ProcessEnv = process.env): string | null => env.PETROMAP_REDIS_URL?.trim() || null;

/** The workspace root: --workspace, else PETROMAP_DATA, else ./data (as the server). */
export const workspaceFromEnv = (env: NodeJS.ProcessEnv = process.env): string => resolve(env.PETROMAP_DATA?.trim() || './data');

/** Where predictVolume sends its bricks: { redisUrl, workspace } in distributed mode, null in process. */
export interface ClusterTarget {
  redisUrl: string;
  /** this machine's path of the workspace root every worker mounts */
  workspace: string;
  /** attempts per brick (default BRICK_ATTEMPTS) */
  attempts?: number;
  /** first retry delay, doubled each retry (default BRICK_BACKOFF_MS) */
  backoffMs?: number;
}
export function clusterFromEnv(env: NodeJS.ProcessEnv = process.env): ClusterTarget | null {
  const redisUrl = redisUrlFromEnv(env);
  return redisUrl ? { redisUrl, workspace: workspaceFromEnv(env) } : null;
}

/** `abs` relative to the workspace root, refused when it lies outside (coordinator side). */
export function relativeToWorkspace(workspace: string, abs: string, what: string): string {
  const rel = relative(resolve(workspace), resolve(abs));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw invalidInput(
      `The ${what} ${abs} lies outside the workspace ${resolve(workspace)}: in distributed mode (PETROMAP_REDIS_URL) workers only reach files under the workspace, which every machine mounts. ` +
        'Move it there, or set PETROMAP_DATA to a folder that holds it.',
    );
  }
  return rel.split(sep).join('/');
}

/** A path from the queue, resolved under this machine's workspace root; anything leaving it is refused. */
export function resolveInWorkspace(workspace: string, rel: unknown, what: string): string {
  if (typeof rel !== 'string' || rel === '' || rel.includes('\0')) throw new PetromapError('InvalidInput', `A brick job names no valid ${what} path; refused.`);
  if (isAbsolute(rel) || /^[A-Za-z]:/.test(rel) || rel.split(/[\\/]/).includes('..')) {
    throw new PetromapError('InvalidInput', `A brick job names the ${what} "${rel}", which is not a path inside the workspace; refused (workers only take relative paths under their workspace).`);
  }
  const root = resolve(workspace);
  const abs = resolve(root, rel);
  if (abs !== root && !abs.startsWith(root + sep)) throw new PetromapError('InvalidInput', `A brick job names the ${what} "${rel}", which leaves the workspace ${root}; refused.`);
  return abs;
}

/** A box from the queue: three non-negative whole starts, three positive whole sizes. */
export function checkBox(box: unknown): Box3 {
  const b = box as Box3 | null;
  const ok = (a: unknown, min: number) => Array.isArray(a) && a.length === 3 && a.every((v) => Number.isInteger(v) && v >= min && v < 1 << 24);
  if (!b || !ok(b.start, 0) || !ok(b.shape, 1)) throw new PetromapError('InvalidInput', `A brick job holds no valid box (${JSON.stringify(box)?.slice(0, 80)}); refused.`);
  return { start: [...b.start] as Box3['start'], shape: [...b.shape] as Box3['shape'] };
}

export const boxKey = (b: Box3) => `${b.start[0]}_${b.start[1]}_${b.start[2]}`;
