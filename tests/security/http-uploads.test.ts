/**
 * The upload route (app/api/projects/[projectId]/upload/route.ts) as a hostile client uses it: a
 * Content-Length beyond the budget, a body that stops halfway (the connection drops, or ends short
 * of its Content-Length), a body longer than its Content-Length, and two uploads of the same name
 * at once. Each refusal is a clean JSON error, leaves nothing in the workspace's tmp/, and what was
 * stored before (a dataset already imported) is intact.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '@/server/services';
import { addVolume, makeServices, until, type Fixture } from '../server/annotate-helpers';

let fx: Fixture;
let svc: Services;
let projectId = '';
const g = globalThis as unknown as { __petromap?: Services };

const nrrd = (fill: number) => {
  const header = 'NRRD0004\ntype: uint8\ndimension: 3\nsizes: 8 8 4\nspacings: 1 1 1\nencoding: raw\n\n';
  return new Uint8Array(Buffer.concat([Buffer.from(header, 'latin1'), Buffer.alloc(256, fill)]));
};

/** A body stream giving `chunks` then either ending or failing (a dropped connection). */
function body(chunks: Uint8Array[], fail = false): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else if (fail) c.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      else c.close();
    },
  });
}

async function upload(name: string, b: ReadableStream<Uint8Array> | Uint8Array, contentLength?: number): Promise<Response> {
  const route = await import('@/app/api/projects/[projectId]/upload/route');
  const headers: Record<string, string> = { host: 'localhost' };
  if (contentLength !== undefined) headers['content-length'] = String(contentLength);
  const req = new Request(`http://localhost/api/projects/${projectId}/upload?kind=volume&name=${encodeURIComponent(name)}`, { method: 'POST', headers, body: b, duplex: 'half' } as RequestInit);
  return route.POST(req, { params: Promise.resolve({ projectId }) });
}

const tmpFiles = async () => (await readdir(path.join(fx.root, 'tmp')).catch(() => [] as string[])).filter((f) => f.startsWith('upload'));
const readyNames = () => svc.repo.listDatasets(projectId).filter((d) => d.status === 'ready').map((d) => d.name).sort();

async function imported(res: Response): Promise<void> {
  expect(res.status).toBe(202);
  const { jobId } = (await res.json()) as { jobId: string };
  await until('the import job', () => ['done', 'failed', 'cancelled', 'interrupted'].includes(svc.repo.job(jobId)?.state ?? ''), 280_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(svc.repo.job(jobId))}`);
  });
  expect(svc.repo.job(jobId)?.error ?? null).toBeNull();
}

beforeAll(async () => {
  fx = makeServices();
  svc = { ...fx.svc, env: { ...fx.svc.env, maxUploadBytes: 64 * 1024 } };
  g.__petromap = svc;
  projectId = svc.repo.createProject('Hostile uploads', 'mineralogy').id;
  // what was stored before: one volume, which every refusal below must leave as it is
  await addVolume(svc, projectId, [4, 8, 8], new Uint8Array(256).fill(3), 'before.nrrd');
});
afterAll(() => {
  delete g.__petromap;
  fx.cleanup();
});

describe('hostile uploads are refused cleanly and lose nothing', () => {
  it('a Content-Length beyond the upload budget is refused before the body is read', async () => {
    const res = await upload('huge.nrrd', body([nrrd(1)]), 2 ** 40);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/huge\.nrrd is 1024\.00 GB, above this server's upload limit/);
    expect(await tmpFiles()).toEqual([]);
    expect(readyNames()).toEqual(['before.nrrd']);
  });

  it('a body longer than the budget (no Content-Length) is cut off and removed', async () => {
    const res = await upload('long.nrrd', body(Array.from({ length: 80 }, () => new Uint8Array(1024))));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/long\.nrrd is larger than this server's upload limit/);
    expect(await tmpFiles()).toEqual([]);
  });

  it('a body that stops halfway (the connection drops) leaves nothing', async () => {
    const whole = nrrd(5);
    const res = await upload('dropped.nrrd', body([whole.subarray(0, 100)], true), whole.length);
    expect(res.status).toBeGreaterThanOrEqual(400);
    const { error } = (await res.json()) as { error: string };
    expect(error).toMatch(/dropped\.nrrd/);
    expect(error).not.toMatch(/\/tmp\//);
    expect(await tmpFiles()).toEqual([]);
    expect(readyNames()).toEqual(['before.nrrd']);
  });

  it('a body that ends short of its Content-Length is refused, not imported truncated', async () => {
    const whole = nrrd(6);
    const res = await upload('short.nrrd', body([whole.subarray(0, 100)]), whole.length);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(new RegExp(`short\\.nrrd: the upload stopped after 100 of ${whole.length} bytes`));
    expect(await tmpFiles()).toEqual([]);
    expect(svc.repo.listDatasets(projectId).map((d) => d.name)).not.toContain('short.nrrd');
  });

  it('a body longer than its Content-Length is refused', async () => {
    const whole = nrrd(7);
    const res = await upload('lying.nrrd', body([whole]), 100);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/lying\.nrrd: the upload sent more than the 100 bytes its Content-Length announced/);
    expect(await tmpFiles()).toEqual([]);
  });

  // the two imports run as jobs in worker threads (26 s for the file alone at load 25; over 150 s with the security suite and bench fuzz beside it)
  it('two uploads of the same name at once become two datasets, and the earlier one stays', { timeout: 300_000 }, async () => {
    const [a, b] = await Promise.all([upload('twin.nrrd', nrrd(8)), upload('twin.nrrd', nrrd(9))]);
    await Promise.all([imported(a), imported(b)]);
    expect(readyNames()).toEqual(['before.nrrd', 'twin.nrrd', 'twin.nrrd']);
    const dirs = svc.repo.listDatasets(projectId).map((d) => d.relPath);
    expect(new Set(dirs).size).toBe(dirs.length);
    expect(await tmpFiles()).toEqual([]);
  });
});
