/**
 * Coordinator side of the distributed mode: the bricks of one whole-volume prediction (and, through
 * runFlowOnQueue, the feature bricks of a large training set: feature-queue-node.ts) go to BullMQ
 * as ONE flow, a parent job (queue QUEUE_RUNS, never processed: it only gathers its children) with
 * one child per brick (queue QUEUE_BRICKS, taken by `petromap worker` processes). The caller
 * (predictVolume) has already created the output stores and written the air markers; it verifies
 * the labels and builds the pyramids after this returns, as in process.
 *
 * - Children: attempts BRICK_ATTEMPTS with exponential backoff from BRICK_BACKOFF_MS, and
 *   failParentOnFailure, so a brick that keeps failing fails the run; its own error (the text
 *   the worker threw, `[petromap:<tag>] message`) is read back and thrown as that PetromapError.
 * - Progress: the parent's processed-children count, polled every POLL_MS (a few Redis commands
 *   per poll, whatever the number of bricks).
 * - Cancel (signal): the cancel key + a pub/sub message (workers abort the bricks of this run in
 *   hand), then the unprocessed children are removed and the flow deleted.
 * - Redis away: ioredis reconnects and the poll waits. If Redis comes back without the flow (a
 *   restart without persistence), the bricks without a `.done` marker are queued again: the
 *   markers on the shared filesystem, not Redis, say what is finished.
 */
import { randomUUID } from 'node:crypto';
import { FlowProducer, Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { brickIsDone } from '../classify/brick-write-node';
import type { SurfacePlane } from '../classify/mirror';
import { PetromapError, throwIfAborted, type PetromapErrorTag } from '../errors';
import type { Box3 } from '../volume/types';
import {
  BRICK_ATTEMPTS, BRICK_BACKOFF_MS, IDENTITY, KEYS, QUEUE_BRICKS, QUEUE_RUNS, boxKey, identityText, redactUrl, relativeToWorkspace, sameIdentity,
  type AnyBrickJobData, type BrickJobData, type BrickJobResult, type ClusterTarget,
} from './config';
import { listWorkers } from './heartbeat-node';
import { connectionOptions, openRedis, waitConnected } from './redis-node';

export const POLL_MS = 500;

export interface QueueRunRequest extends ClusterTarget {
  storePath: string;
  modelDir: string;
  outDir: string;
  mirror: SurfacePlane | null;
  /** bricks to compute (chunk-aligned, not yet done) */
  todo: Box3[];
  /** the prediction run of predict.json: every brick carries it, workers write a brick only while the folder holds it */
  outRunId: string;
}

export interface QueueRunOptions {
  signal?: AbortSignal;
  /** bricks of `todo` finished so far (monotonic) */
  onBricks?: (done: number, total: number) => void;
  /** waiting for workers, Redis away, bricks queued again, ... */
  onStatus?: (message: string) => void;
}

export interface QueueRunResult {
  runId: string;
  /** one per child job, as the worker that finished it returned it */
  bricks: (BrickJobResult & { box: string })[];
  /** times the flow had to be queued again because Redis lost it */
  requeued: number;
  seconds: number;
}

/** `[petromap:<tag>] message` -> PetromapError (see worker-node encodeError). */
export function decodeError(text: string | undefined, context: string): PetromapError {
  const m = /^\[petromap:([A-Za-z]+)\] ([\s\S]*)$/.exec(text ?? '');
  const tag = (m?.[1] ?? 'Internal') as PetromapErrorTag;
  return new PetromapError(tag, `${context}: ${m ? m[2] : (text ?? 'unknown error')}`);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Runs `p`, but gives up waiting (returns undefined) when `signal` aborts. */
async function orAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return p;
  let onAbort = () => {};
  const aborted = new Promise<undefined>((res) => {
    onAbort = () => res(undefined);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export async function runBricksOnQueue(req: QueueRunRequest, opts: QueueRunOptions = {}): Promise<QueueRunResult> {
  const rel = {
    storePath: relativeToWorkspace(req.workspace, req.storePath, 'volume'),
    modelDir: relativeToWorkspace(req.workspace, req.modelDir, 'model folder'),
    outDir: relativeToWorkspace(req.workspace, req.outDir, 'output folder'),
  };
  return runFlowOnQueue({
    target: req,
    name: 'predict',
    parentData: { outDir: rel.outDir, outRunId: req.outRunId },
    todo: req.todo,
    childData: (runId, box) => ({ runId, outRunId: req.outRunId, identity: IDENTITY, ...rel, box, mirror: req.mirror }) satisfies BrickJobData,
    childKey: (box) => boxKey(box),
    isDone: (box) => brickIsDone(req.outDir, box, req.outRunId),
    where: (child) => (child ? `Brick ${boxKey(child.box)} (z_y_x start) of ${req.storePath}` : `A brick of ${req.storePath}`),
    cancelled: 'The prediction was cancelled; finished bricks are kept and a restart continues from there.',
  }, opts);
}

/** One flow of children on the bricks queue (prediction bricks, feature bricks). */
export interface FlowSpec {
  target: ClusterTarget;
  /** the parent job's name ('predict', 'features') */
  name: string;
  parentData: Record<string, unknown>;
  todo: Box3[];
  childData: (runId: string, box: Box3, index: number) => AnyBrickJobData;
  /** unique within the run: the child's job id is `<runId>.<key>` */
  childKey: (box: Box3, index: number) => string;
  /** finished according to the shared filesystem (requeue after Redis lost the flow) */
  isDone: (box: Box3, index: number) => Promise<boolean>;
  /** names a child in a failure message ("Brick 0_0_0 (z_y_x start) of …") */
  where: (child: AnyBrickJobData | undefined) => string;
  /** message of the Aborted error */
  cancelled: string;
  /** run id (default: a new UUID) */
  runId?: string;
}

export async function runFlowOnQueue(spec: FlowSpec, opts: QueueRunOptions = {}): Promise<QueueRunResult> {
  const t0 = Date.now();
  const { signal, onBricks, onStatus } = opts;
  const req = spec.target;
  throwIfAborted(signal);
  const runId = spec.runId ?? randomUUID();
  const r = openRedis(req.redisUrl);
  const connection = connectionOptions(req.redisUrl);
  let flow: FlowProducer | null = null, bricksQ: Queue | null = null, runsQ: Queue | null = null;
  try {
    await waitConnected(r, req.redisUrl);
    flow = new FlowProducer({ connection });
    bricksQ = new Queue(QUEUE_BRICKS, { connection });
    runsQ = new Queue(QUEUE_RUNS, { connection });
    flow.on('error', () => {});
    bricksQ.on('error', () => {});
    runsQ.on('error', () => {});

    const total = spec.todo.length;
    const submit = async (indices: number[]) => {
      await r.set(KEYS.version, JSON.stringify(IDENTITY));
      await flow!.add({
        name: spec.name,
        queueName: QUEUE_RUNS,
        data: { runId, ...spec.parentData, bricks: indices.length, identity: IDENTITY },
        opts: { jobId: runId, removeOnComplete: true, removeOnFail: false },
        children: indices.map((i) => ({
          name: 'brick',
          queueName: QUEUE_BRICKS,
          data: spec.childData(runId, spec.todo[i]!, i),
          opts: {
            jobId: `${runId}.${spec.childKey(spec.todo[i]!, i)}`,
            attempts: req.attempts ?? BRICK_ATTEMPTS,
            backoff: { type: 'exponential', delay: req.backoffMs ?? BRICK_BACKOFF_MS },
            failParentOnFailure: true,
            removeOnComplete: false,
            removeOnFail: false,
          },
        })),
      });
    };
    await submit(spec.todo.map((_, i) => i));
    onStatus?.(`queued ${total} bricks on ${redactUrl(req.redisUrl)} (run ${runId})`);

    let requeued = 0, lastDone = -1, lastProgressAt = Date.now(), lastWorkerCheck = 0;
    let base = 0; // bricks finished before a requeue (their markers exist)
    for (;;) {
      if (signal?.aborted) break;
      const parent = await orAbort(Job.fromId(runsQ, runId), signal);
      if (signal?.aborted) break;
      if (!parent) {
        // Redis came back without the flow (restarted without persistence): the markers say what is left
        const left: number[] = [];
        for (let i = 0; i < total; i++) if (!(await spec.isDone(spec.todo[i]!, i))) left.push(i);
        base = total - left.length;
        requeued++;
        onStatus?.(`Redis lost the queued run (restarted without persistence?): ${left.length} unfinished bricks queued again`);
        if (!left.length) break;
        await submit(left);
        continue;
      }
      const state = await orAbort(parent.getState(), signal);
      if (signal?.aborted) break;
      // failParentOnFailure moves the parent to wait with a deferred failure (its queue has no worker)
      if (state === 'failed' || parent.deferredFailure) {
        const m = /child (\S+) failed/.exec(parent.deferredFailure ?? parent.failedReason ?? '');
        const childId = m ? m[1]!.slice(m[1]!.lastIndexOf(':') + 1) : undefined;
        const child = childId ? await Job.fromId<AnyBrickJobData>(bricksQ, childId) : undefined;
        const tries = child ? ` after ${child.attemptsMade} attempt${child.attemptsMade === 1 ? '' : 's'}` : '';
        // the run is over: the other bricks in hand and queued are dropped
        await cancelRun(r, runsQ, runId);
        throw decodeError(child?.failedReason ?? parent.deferredFailure ?? parent.failedReason, `${spec.where(child?.data)} failed${tries}`);
      }
      const counts = await orAbort(parent.getDependenciesCount({ processed: true, unprocessed: true }), signal);
      if (signal?.aborted || !counts) break;
      const done = Math.min(total, base + (counts.processed ?? 0));
      if (done !== lastDone) {
        lastDone = done;
        lastProgressAt = Date.now();
        onBricks?.(done, total);
      }
      if (state !== 'waiting-children' && (counts.unprocessed ?? 0) === 0) break; // all children done: the parent moved to wait
      if (Date.now() - lastProgressAt > 5000 && Date.now() - lastWorkerCheck > 5000) {
        lastWorkerCheck = Date.now();
        const ws = await listWorkers(r).catch(() => []);
        const ours = ws.filter((w) => sameIdentity(w.identity, IDENTITY));
        if (!ours.length) {
          const other = ws.length ? ` (${ws.length} worker${ws.length === 1 ? '' : 's'} of another version: ${[...new Set(ws.map((w) => identityText(w.identity)))].join(', ')})` : '';
          onStatus?.(`waiting for workers: no \`petromap worker\` of ${identityText(IDENTITY)} is connected to ${redactUrl(req.redisUrl)}${other}`);
        }
      }
      await sleep(POLL_MS, signal);
    }
    if (signal?.aborted) {
      await cancelRun(r, runsQ, runId);
      throw new PetromapError('Aborted', spec.cancelled, { cause: signal.reason });
    }
    const parent = await Job.fromId(runsQ, runId);
    const values = ((await parent?.getChildrenValues()) ?? {}) as Record<string, BrickJobResult>;
    const bricks = Object.entries(values).map(([k, v]) => ({ ...v, box: k.slice(k.lastIndexOf('.') + 1) }));
    await parent?.remove({ removeChildren: true }).catch(() => {});
    onBricks?.(total, total);
    return { runId, bricks, requeued, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await Promise.all([flow?.close(), bricksQ?.close(), runsQ?.close()].map((p) => p?.catch(() => {})));
    r.disconnect();
  }
}

/** Cancel reaches every worker: key (bricks taken later) + pub/sub (bricks in hand), then the flow goes. */
async function cancelRun(r: Redis, runsQ: Queue, runId: string): Promise<void> {
  const bounded = <T>(p: Promise<T>) => Promise.race([p, new Promise<undefined>((res) => setTimeout(() => res(undefined), 3000))]);
  try {
    await bounded(r.set(KEYS.cancel(runId), '1', 'EX', 86_400));
    await bounded(r.publish(KEYS.cancelChannel, runId));
    const parent = await bounded(Job.fromId(runsQ, runId));
    if (parent) {
      await bounded(parent.removeUnprocessedChildren().catch(() => {}));
      // active children are locked until their workers drop them; remove what can go
      await bounded(parent.remove({ removeChildren: true }).catch(() => {}));
    }
  } catch {
    /* Redis away: the cancel key could not be set; workers finish their bricks, which are kept */
  }
}
