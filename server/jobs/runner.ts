/**
 * In-process job runner. A job is a row in SQLite (kind, state, progress, message, error) plus
 * an async function of { signal, onProgress }. Jobs run one at a time per queue ('compute' for
 * heavy work on 2 cores, 'io' for light work), report progress as events (for tRPC subscriptions)
 * and to the row (throttled), and can be cancelled. On start-up, rows left running become
 * 'interrupted' (see Repo.interruptStaleJobs): they are never lost.
 *
 * Deleting a project or a dataset first stops its jobs (stopProject / stopDataset: cancel, then
 * wait until they have ended), so that no job writes into a folder that is being removed; a
 * project being deleted takes no new jobs. A job that does not end within the wait is left to
 * finish; `settled` tells when, so that the caller can remove what it wrote after all.
 */
import { EventEmitter } from 'node:events';
import { PetromapError, isPetromapError } from '@/lib/errors';
import type { OnProgress } from '@/lib/errors';
import { etaSeconds, type ProgressPoint } from '@/lib/eta';
import { newId, type JobRecord, type Repo } from '../db/repo';

export type JobFn = (ctx: { signal: AbortSignal; onProgress: OnProgress; jobId: string }) => Promise<unknown>;

export interface JobEvent {
  id: string;
  state: JobRecord['state'];
  progress: number;
  message: string | null;
  error: string | null;
  etaSeconds: number | null;
}

interface Running {
  controller: AbortController;
  startedAt: number;
  /** the first progress report (the rate is measured from it) and the latest one */
  first?: ProgressPoint;
  last?: ProgressPoint;
  projectId: string | null;
  params: unknown;
  /** datasets the job read once it started, beyond those its parameters name (uses) */
  uses: Set<string>;
  /** resolves when the job has ended (whatever its state) */
  done: Promise<void>;
}

/** How long a delete waits for its jobs to end after cancelling them. */
export const STOP_WAIT_MS = 30_000;

/** True if `id` is one of the string values of `params` (at any depth): the job names that dataset. */
function mentions(params: unknown, id: string, depth = 0): boolean {
  if (params === id) return true;
  if (depth > 4 || params === null || typeof params !== 'object') return false;
  return Object.values(params as Record<string, unknown>).some((v) => mentions(v, id, depth + 1));
}

/** A finished job's message: 'Finished', or what its result's `doneMessage` says (e.g. which model a prediction used). */
function finishedMessage(result: unknown): string {
  const m = result !== null && typeof result === 'object' ? (result as { doneMessage?: unknown }).doneMessage : undefined;
  return typeof m === 'string' && m ? m : 'Finished';
}

export class JobRunner {
  readonly events = new EventEmitter();
  private running = new Map<string, Running>();
  private queues = new Map<string, Promise<unknown>>();
  /** projects being (or already) deleted: they take no new jobs */
  private closed = new Set<string>();

  constructor(private repo: Repo) {
    this.events.setMaxListeners(1000);
  }

  /** Queue a job; returns its row at once. */
  start(kind: string, projectId: string | null, params: unknown, fn: JobFn, queue: 'compute' | 'io' = 'compute'): JobRecord {
    if (projectId !== null && this.closed.has(projectId)) {
      throw new PetromapError('Conflict', 'This project is being deleted: no new job can start in it.');
    }
    const id = newId('j');
    const row = this.repo.insertJob({ id, projectId, kind, params });
    const controller = new AbortController();
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    this.running.set(id, { controller, startedAt: 0, projectId, params, uses: new Set(), done });
    const prev = this.queues.get(queue) ?? Promise.resolve();
    const next = prev.then(() => this.execute(id, fn, controller)).finally(finished);
    this.queues.set(queue, next.catch(() => undefined));
    return row;
  }

  /**
   * Before a project is deleted: it takes no new jobs, its queued and running jobs are cancelled,
   * and this waits (at most `waitMs`) until they have ended. Returns the ids of the jobs stopped
   * and a promise of all of them having ended (later than this call's return if one overran).
   */
  async stopProject(projectId: string, waitMs = STOP_WAIT_MS) {
    this.closed.add(projectId);
    return this.stopWhere((r) => r.projectId === projectId, waitMs);
  }

  /** Undo stopProject's refusal of new jobs (the delete failed). */
  reopenProject(projectId: string) {
    this.closed.delete(projectId);
  }

  /** Before a dataset is deleted: cancel and await the jobs whose parameters name it (volumeId, edsId, datasetId, ...) or that said they use it (uses). */
  async stopDataset(datasetId: string, waitMs = STOP_WAIT_MS) {
    return this.stopWhere((r) => r.uses.has(datasetId) || mentions(r.params, datasetId), waitMs);
  }

  /**
   * A job that reads its inputs when it starts (not when it was queued) names the datasets it read
   * here, so that deleting one of them stops it as it stops a job whose parameters name it.
   */
  uses(jobId: string, datasetIds: Iterable<string>) {
    const r = this.running.get(jobId);
    if (r) for (const id of datasetIds) r.uses.add(id);
  }

  private async stopWhere(pred: (r: Running) => boolean, waitMs: number) {
    const hit = [...this.running.entries()].filter(([, r]) => pred(r));
    const queued = new Set(hit.filter(([, r]) => r.startedAt === 0).map(([id]) => id));
    for (const [, r] of hit) r.controller.abort(new Error('cancelled: its project or dataset is being deleted'));
    // a queued job ends now, as cancel() ends it (its turn passes without running it): the delete
    // does not wait for the jobs ahead of it in the queue, another project's among them
    for (const id of queued) this.endQueued(id);
    const settled = Promise.all(hit.filter(([id]) => !queued.has(id)).map(([, r]) => r.done)).then(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      settled.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), waitMs))),
    ]);
    clearTimeout(timer);
    const overran = hit.filter(([id]) => this.running.has(id)).map(([id]) => id);
    if (!inTime && overran.length) console.warn(`petromap: job(s) ${overran.join(', ')} did not stop within ${waitMs / 1000} s of being cancelled`);
    return { stopped: hit.map(([id]) => id), overran, settled };
  }

  cancel(id: string): boolean {
    const r = this.running.get(id);
    if (!r) return false;
    r.controller.abort(new Error('cancelled by the user'));
    // a queued job is cancelled at once (its row and the pages say so now, not when the job ahead of
    // it ends); its turn in the queue then passes without running it (execute)
    if (r.startedAt === 0) this.endQueued(id);
    return true;
  }

  /** A queued job that was cancelled: its row, its event, and it is no longer active. */
  private endQueued(id: string) {
    if (!this.running.has(id)) return;
    this.running.delete(id);
    this.repo.updateJob(id, { state: 'cancelled', message: 'Cancelled before it started', finished: true });
    this.emit({ id, state: 'cancelled', progress: 0, message: 'Cancelled before it started', error: null, etaSeconds: null });
  }

  isActive(id: string) {
    return this.running.has(id);
  }

  /**
   * Seconds left of a running job at `nowMs`: the estimate at its latest progress report (rate
   * since the first report, lib/eta) less the time since that report, at least 1 s while it runs.
   * Null when queued, ended or too early to say.
   */
  etaOf(id: string, nowMs = Date.now()): number | null {
    const r = this.running.get(id);
    if (!r?.first || !r.last) return null;
    const eta = etaSeconds(r.first, r.last);
    return eta === null ? null : Math.max(1, eta - (nowMs - r.last.atMs) / 1000);
  }

  /** Wait for a job to finish (tests, CLI). */
  async wait(id: string): Promise<JobRecord> {
    for (;;) {
      const j = this.repo.job(id);
      if (j && !this.running.has(id)) return j;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private emit(e: JobEvent) {
    this.events.emit('job', e);
    this.events.emit(`job:${e.id}`, e);
  }

  private async execute(id: string, fn: JobFn, controller: AbortController) {
    const r = this.running.get(id);
    if (!r || controller.signal.aborted) {
      this.endQueued(id);
      return;
    }
    r.startedAt = Date.now();
    this.repo.updateJob(id, { state: 'running', started: true });
    this.emit({ id, state: 'running', progress: 0, message: null, error: null, etaSeconds: null });
    let lastWrite = 0;
    const onProgress: OnProgress = (fraction, message) => {
      const f = Math.max(0, Math.min(1, fraction));
      const point = { atMs: Date.now(), fraction: f };
      r.first ??= point;
      r.last = point;
      const eta = f < 1 ? etaSeconds(r.first, point) : null;
      this.emit({ id, state: 'running', progress: f, message: message ?? null, error: null, etaSeconds: eta });
      const now = Date.now();
      if (now - lastWrite > 500) {
        lastWrite = now;
        this.repo.updateJob(id, { progress: f, message: message ?? null });
      }
    };
    try {
      const result = await fn({ signal: controller.signal, onProgress, jobId: id });
      const message = finishedMessage(result);
      this.repo.updateJob(id, { state: 'done', progress: 1, message, result: result ?? null, finished: true });
      this.emit({ id, state: 'done', progress: 1, message, error: null, etaSeconds: 0 });
    } catch (err) {
      const cancelled = controller.signal.aborted || isPetromapError(err, 'Aborted');
      const msg = cancelled ? 'Cancelled' : err instanceof Error ? err.message : String(err);
      if (!cancelled && !isPetromapError(err)) console.error(`job ${id} failed:`, err);
      this.repo.updateJob(id, { state: cancelled ? 'cancelled' : 'failed', error: cancelled ? null : msg, message: cancelled ? 'Cancelled' : 'Failed', finished: true });
      this.emit({ id, state: cancelled ? 'cancelled' : 'failed', progress: this.repo.job(id)?.progress ?? 0, message: null, error: cancelled ? null : msg, etaSeconds: null });
    } finally {
      this.running.delete(id);
    }
  }
}
