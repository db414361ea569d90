/**
 * `petromap worker`: a BullMQ Worker on the prediction-brick queue that computes bricks on a pool of
 * worker threads (brick-threads-node.ts, each running predictBrickToStores, the code predictVolume's
 * threads run, or, for jobs of kind 'features', computeFeatureBrick: the feature rows of a large
 * training set's labelled voxels, feature-brick-node.ts). Per brick job:
 *   1. the payload is checked: same petromap/model format/protocol, a valid box, paths relative to
 *      this machine's workspace that stay inside it (anything else fails the job unrecoverably);
 *   2. a cancelled run (pub/sub message or the cancel key) fails the brick without retry;
 *   2b. a prediction brick of a run that no longer owns its output folder (predict.json names
 *      another run: abandoned, the folder started again) fails without retry, before any work;
 *   3. a brick whose `.done` marker (feature brick: rows header) exists is not computed again (a retry of a brick that finished
 *      just before its worker died): outcome 'skipped';
 *   4. otherwise the brick is computed and written (whole chunks, atomic writes, marker last).
 * BullMQ holds a lock per active job, renewed every lockDuration/2 from this (free) event loop;
 * when a renewal fails (Redis away too long, lock taken over) the brick's thread is stopped, so two
 * machines never write one brick's chunks at the same time. A SIGKILLed worker's bricks are moved
 * back to the queue by the stalled check of the other workers (after lockDuration, checked every
 * stalledInterval) and computed elsewhere.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { brickIsDone, checkRunOwnsFolder, isStaleRunError } from '../classify/brick-write-node';
import { PetromapError, isPetromapError } from '../errors';
import { BrickThreads, type BrickRequest } from './brick-threads-node';
import {
  DEFAULT_LOCK_MS, DEFAULT_STALLED_MS, HEARTBEAT_MS, IDENTITY, KEYS, QUEUE_BRICKS, boxKey, checkBox, identityText, redactUrl, resolveInWorkspace,
  sameIdentity, type AnyBrickJobData, type BrickJobResult,
} from './config';
import { featureBrickIsDone } from './feature-brick-node';
import { Throughput, removeHeartbeat, writeHeartbeat, type WorkerHeartbeat } from './heartbeat-node';
import { connectionOptions, openRedis, readIdentity, refuseOtherIdentity, waitConnected } from './redis-node';
import type { Box3 } from '../volume/types';

export interface ClusterWorkerOptions {
  redisUrl: string;
  /** this machine's path of the shared workspace root */
  workspace: string;
  /** brick threads (default 1) */
  threads?: number;
  /** bricks taken at once (default = threads) */
  concurrency?: number;
  /** BullMQ lock of an active brick (default DEFAULT_LOCK_MS) */
  lockMs?: number;
  /** how often this worker looks for stalled bricks (default DEFAULT_STALLED_MS) */
  stalledMs?: number;
  /** structured events (brick-start, brick-done, brick-skip, brick-failed, ...) */
  onEvent?: (e: Record<string, unknown>) => void;
}

export interface ClusterWorker {
  id: string;
  /** stop taking bricks; `force` also aborts the bricks in hand (they go back to the queue) */
  close(force?: boolean): Promise<void>;
  /** resolves when the worker has closed */
  closed: Promise<void>;
}

/** Errors cross Redis as text: `[petromap:<tag>] <message>` (parsed back by the coordinator). */
export const encodeError = (err: unknown): string => {
  if (isPetromapError(err)) return `[petromap:${err._tag}] ${err.message}`;
  return `[petromap:Internal] ${err instanceof Error ? err.message : String(err)}`;
};

export async function startClusterWorker(o: ClusterWorkerOptions): Promise<ClusterWorker> {
  const threads = Math.max(1, o.threads ?? 1);
  const concurrency = Math.max(1, o.concurrency ?? threads);
  const lockMs = o.lockMs ?? DEFAULT_LOCK_MS;
  const stalledMs = o.stalledMs ?? DEFAULT_STALLED_MS;
  const emit = (e: Record<string, unknown>) => o.onEvent?.({ t: Date.now(), ...e });
  const host = hostname();
  const id = `${host}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  const r = openRedis(o.redisUrl);
  try {
    await waitConnected(r, o.redisUrl);
    refuseOtherIdentity(await readIdentity(r), o.redisUrl);
  } catch (err) {
    r.disconnect();
    throw err;
  }

  // cancel: a run id on the channel aborts that run's bricks in hand; the key covers bricks taken later
  const cancelled = new Set<string>();
  const active = new Map<string, { runId: string; box: string; ac: AbortController }>();
  const sub = openRedis(o.redisUrl);
  await sub.subscribe(KEYS.cancelChannel);
  sub.on('message', (_ch: string, runId: string) => {
    cancelled.add(runId);
    for (const a of active.values()) if (a.runId === runId) a.ac.abort(new PetromapError('Aborted', 'The prediction was cancelled.'));
    emit({ event: 'cancel', runId });
  });

  const pool = new BrickThreads(threads);
  const tput = new Throughput();
  let bricksDone = 0, bricksFailed = 0;
  const startedAt = Date.now();

  const processor = async (job: Job<AnyBrickJobData, BrickJobResult>, _token?: string, signal?: AbortSignal): Promise<BrickJobResult> => {
    const d = job.data;
    const t0 = Date.now();
    if (!d || !d.identity || !sameIdentity(d.identity, IDENTITY)) {
      throw new UnrecoverableError(`[petromap:Conflict] This brick was queued by ${d?.identity ? identityText(d.identity) : 'an unknown coordinator'}, but worker ${id} is ${identityText(IDENTITY)}.`);
    }
    const kind = d.kind ?? 'predict';
    const what = kind === 'features' ? 'The feature computation was cancelled.' : 'The prediction was cancelled.';
    let box: Box3, req: BrickRequest, isDone: () => Promise<boolean>;
    let stale = async () => {};
    try {
      box = checkBox(d.box);
      const storePath = resolveInWorkspace(o.workspace, d.storePath, 'volume');
      if (d.kind === 'features') {
        const runDir = resolveInWorkspace(o.workspace, d.runDir, 'feature run folder');
        const index = d.index;
        if (!Number.isInteger(index) || index < 0) throw new PetromapError('InvalidInput', `A feature brick job holds no valid index (${JSON.stringify(index)}); refused.`);
        req = { type: 'features', runId: d.runId, spec: { storePath, runDir, index, box } };
        isDone = () => featureBrickIsDone(runDir, index);
      } else if (d.kind === undefined || d.kind === 'predict') {
        const modelDir = resolveInWorkspace(o.workspace, d.modelDir, 'model');
        const outDir = resolveInWorkspace(o.workspace, d.outDir, 'output folder');
        if (typeof d.outRunId !== 'string' || !d.outRunId) throw new PetromapError('InvalidInput', 'A prediction brick job names no prediction run (outRunId); refused.');
        const outRunId = d.outRunId;
        req = { type: 'brick', runId: d.runId, spec: { storePath, modelDir, outDir, mirror: d.mirror ?? null, outRunId }, box, extra: { worker: id, jobId: job.id } };
        isDone = () => brickIsDone(outDir, box, outRunId);
        // a brick of a run that no longer owns its output folder (abandoned, the folder started again) is refused before any work
        stale = () => checkRunOwnsFolder(outDir, outRunId, box);
      } else {
        throw new PetromapError('InvalidInput', `A brick job of unknown kind "${String((d as { kind?: unknown }).kind)}"; refused.`);
      }
    } catch (err) {
      throw new UnrecoverableError(encodeError(err));
    }
    const key = boxKey(box);
    if (cancelled.has(d.runId) || (await r.exists(KEYS.cancel(d.runId)))) {
      cancelled.add(d.runId);
      throw new UnrecoverableError(`[petromap:Aborted] ${what}`);
    }
    const base = { worker: id, pid: process.pid, runId: d.runId, kind, box: key, jobId: job.id, attempt: job.attemptsMade + 1 };
    try {
      await stale();
    } catch (err) {
      emit({ event: 'brick-stale', ...base, error: encodeError(err) });
      throw new UnrecoverableError(encodeError(err));
    }
    if (await isDone()) {
      emit({ event: 'brick-skip', ...base });
      return { outcome: 'skipped', ms: 0, voxels: 0, worker: id, startedAt: t0, endedAt: Date.now() };
    }
    // again after the awaits above (folder checks): a cancel heard meanwhile found no brick in hand to abort;
    // from here to active.set nothing awaits, so a later cancel finds this brick in `active`
    if (cancelled.has(d.runId)) throw new UnrecoverableError(`[petromap:Aborted] ${what}`);
    const ac = new AbortController();
    const onJobAbort = () => ac.abort(signal?.reason);
    signal?.addEventListener('abort', onJobAbort, { once: true });
    active.set(job.id!, { runId: d.runId, box: key, ac });
    emit({ event: 'brick-start', ...base });
    try {
      const res = await pool.run(req, ac.signal);
      bricksDone++;
      tput.add(res.voxels);
      const endedAt = Date.now();
      emit({ event: 'brick-done', ...base, ms: res.ms, voxels: res.voxels, startedAt: t0, endedAt });
      return { outcome: 'written', ms: res.ms, voxels: res.voxels, worker: id, startedAt: t0, endedAt };
    } catch (err) {
      bricksFailed++;
      emit({ event: 'brick-failed', ...base, error: encodeError(err) });
      if (cancelled.has(d.runId)) throw new UnrecoverableError(`[petromap:Aborted] ${what}`);
      // the folder was given to another run while the brick was computed: nothing to retry
      if (isStaleRunError(err)) throw new UnrecoverableError(encodeError(err));
      // any other failure is retried with backoff (the job's attempts), then fails the run
      throw new Error(encodeError(err));
    } finally {
      signal?.removeEventListener('abort', onJobAbort);
      active.delete(job.id!);
    }
  };

  const worker = new Worker<AnyBrickJobData, BrickJobResult>(QUEUE_BRICKS, processor, {
    connection: connectionOptions(o.redisUrl),
    concurrency,
    lockDuration: lockMs,
    stalledInterval: stalledMs,
    maxStalledCount: 2,
    autorun: true,
  });
  worker.on('lockRenewalFailed', (ids: string[]) => {
    // another worker may take these bricks over: stop writing them here at once
    for (const jid of ids) {
      const a = active.get(jid);
      if (a) a.ac.abort(new PetromapError('Aborted', 'The brick lock was lost.'));
      emit({ event: 'lock-lost', jobId: jid });
    }
  });
  worker.on('error', (err) => emit({ event: 'error', message: err.message }));
  worker.on('stalled', (jobId) => emit({ event: 'stalled', jobId }));

  const beat = async () => {
    const hb: WorkerHeartbeat = {
      id, host, pid: process.pid, identity: IDENTITY, workspace: o.workspace, threads, concurrency,
      inHand: [...active.values()].map((a) => `${a.runId} ${a.box}`), bricksDone, bricksFailed,
      voxelsPerSecond: Math.round(tput.perSecond()), startedAt, at: Date.now(),
    };
    await writeHeartbeat(r, hb).catch(() => {});
  };
  await beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_MS);
  emit({ event: 'ready', worker: id, host, threads, concurrency, lockMs, stalledMs, queue: QUEUE_BRICKS, redis: redactUrl(o.redisUrl) });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((res) => (resolveClosed = res));
  let closing: Promise<void> | null = null;
  return {
    id,
    closed,
    close(force = false) {
      if (force) for (const a of active.values()) a.ac.abort(new PetromapError('Aborted', 'The worker was stopped.'));
      // bounded: with Redis away BullMQ's close and the heartbeat removal would wait for it forever
      const bounded = (p: Promise<unknown>, ms: number) => Promise.race([p.catch(() => {}), new Promise((res) => setTimeout(res, ms).unref())]);
      closing ??= (async () => {
        clearInterval(timer);
        await bounded(worker.close(force), force ? 5000 : 10 * 60_000);
        await pool.close();
        await bounded(removeHeartbeat(r, id), 2000);
        await bounded(worker.disconnect(), 2000);
        sub.disconnect();
        r.disconnect();
        emit({ event: 'closed', worker: id });
        resolveClosed();
      })();
      return closing;
    },
  };
}
