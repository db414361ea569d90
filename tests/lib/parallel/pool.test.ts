import { afterAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { createPool } from '../../../lib/parallel/pool-node';
import type { EchoJob } from './echo.worker';

const pool = createPool<EchoJob, { value: number; threadId: number; buf?: Float32Array }>(new URL('./echo.worker.ts', import.meta.url), 2);
afterAll(() => pool.close());

describe('worker pool', () => {
  it('runs jobs on both workers and returns transferred buffers', async () => {
    const res = await Promise.all([1, 2, 3, 4, 5, 6].map((value) => pool.run({ kind: 'echo', value })));
    expect(res.map((r) => r.value)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(res.map((r) => r.threadId)).size).toBe(2);
    expect(Array.from(res[2]!.buf!)).toEqual([3, 3, 3, 3]);
  });

  it('reports progress', async () => {
    const seen: Array<[number, string | undefined]> = [];
    await pool.run({ kind: 'progress', value: 1 }, [], undefined, (f, m) => seen.push([f, m]));
    expect(seen).toEqual([[0.5, 'half way']]);
  });

  it('keeps the PetromapError tag of worker errors; plain errors become Unprocessable', async () => {
    const err = await pool.run({ kind: 'fail' }).catch((e) => e);
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect(err.message).toBe('Scan "x.tif" has no voxels.');
    const err2 = await pool.run({ kind: 'plain-error' }).catch((e) => e);
    expect(isPetromapError(err2, 'Unprocessable')).toBe(true);
    expect(err2.message).toMatch(/boom/);
  });

  it('cancels a busy job by terminating its worker, then keeps working', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = pool.run({ kind: 'spin', ms: 60_000 }, [], ac.signal);
    const queued = new AbortController();
    const q = Promise.all([pool.run({ kind: 'spin', ms: 60_000 }, [], queued.signal), pool.run({ kind: 'echo', value: 9 }, [], queued.signal)]);
    setTimeout(() => {
      ac.abort();
      queued.abort();
    }, 300);
    const err = await p.catch((e) => e);
    expect(isPetromapError(err, 'Aborted')).toBe(true);
    expect(isPetromapError(await q.catch((e) => e), 'Aborted')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const res = await Promise.all([7, 8].map((value) => pool.run({ kind: 'echo', value })));
    expect(res.map((r) => r.value)).toEqual([7, 8]);
    expect(pool.pending).toBe(0);
  });

  it('a crashed worker fails its job and is replaced', async () => {
    const err = await pool.run({ kind: 'crash' }).catch((e) => e);
    expect(isPetromapError(err, 'Unprocessable')).toBe(true);
    expect(err.message).toMatch(/exited with code 3/);
    expect((await pool.run({ kind: 'echo', value: 5 })).value).toBe(5);
  });
});
