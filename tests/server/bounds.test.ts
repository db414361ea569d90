/**
 * Bounded work and bodies (issue 12, item 12): tRPC inputs beyond the bounds of
 * server/routers/bounds.ts are refused before any work starts, batches are capped, and the
 * painted-slice PUT refuses a body larger than the slice before reading it into memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '@/server/routers/_app';
import { MAX_BATCH_SIZE, MAX_TRPC_BODY_BYTES } from '@/server/trpc';
import { MAX_EPOCHS, MAX_FEATURE_SPECS, MAX_SIGMA_UM, MAX_SIGMA_VOX } from '@/server/routers/bounds';
import { readBodyCapped } from '@/server/http';
import { addClass } from '@/server/pipeline/annotate';
import type { Services } from '@/server/services';
import type { Shape3 } from '@/lib/volume/types';
import { addVolume, layeredPhantom, makeServices, type Fixture } from './annotate-helpers';

const shape: Shape3 = [8, 32, 40];
const [, ny, nx] = shape;
const SPACING_UM = 2;
let fx: Fixture;
let svc: Services;
let projectId: string;
let caller: ReturnType<typeof createCaller>;
const g = globalThis as unknown as { __petromap?: Services };

beforeAll(async () => {
  fx = makeServices();
  svc = fx.svc;
  // the route handlers call services(): give them this workspace
  g.__petromap = svc;
  projectId = svc.repo.createProject('Bounds', 'lithology').id;
  await addVolume(svc, projectId, shape, layeredPhantom(shape).data, 'plug.nrrd', [SPACING_UM, SPACING_UM, SPACING_UM]);
  addClass(svc, projectId, { name: 'porous', color: [66, 135, 245] });
  caller = createCaller({ svc });
});
afterAll(() => {
  delete g.__petromap;
  fx.cleanup();
});

const refused = async (p: Promise<unknown>, code: string, msg?: RegExp) => {
  const err = await p.then(() => undefined, (e: unknown) => e as { code?: string; message: string });
  expect(err, 'the call should have been refused').toBeDefined();
  expect(err!.code).toBe(code);
  if (msg) expect(err!.message).toMatch(msg);
};

describe('tRPC input bounds', () => {
  it('feature sets: at most MAX_FEATURE_SPECS filters, scales at most MAX_SIGMA_UM and MAX_SIGMA_VOX voxels of the volume', async () => {
    const many = Array.from({ length: MAX_FEATURE_SPECS + 1 }, (_, i) => ({ filter: 'gaussian' as const, sigmaUm: 1 + i * 0.1 }));
    await refused(caller.train.setFeatureSet({ projectId, specs: many }), 'BAD_REQUEST', /at most 50 filters/);
    await refused(caller.train.setFeatureSet({ projectId, specs: [{ filter: 'gaussian', sigmaUm: 1000 }] }), 'BAD_REQUEST');
    expect(MAX_SIGMA_UM).toBeLessThan(1000);
    // within the absolute cap, but 20 voxels of this 2 µm volume
    await refused(caller.train.setFeatureSet({ projectId, specs: [{ filter: 'gaussian', sigmaUm: (MAX_SIGMA_VOX + 4) * SPACING_UM }] }), 'BAD_REQUEST', /at most 16 voxels \(32 µm.*gaussian at 40 µm/);
    const okSet = await caller.train.setFeatureSet({ projectId, specs: [{ filter: 'intensity', sigmaUm: 0 }, { filter: 'gaussian', sigmaUm: MAX_SIGMA_VOX * SPACING_UM }] });
    expect(okSet.specs).toHaveLength(2);
  });

  it('training: epochs, hidden layers, and a stored feature set beyond the scale bound are refused before the job starts', async () => {
    await refused(caller.train.start({ projectId, epochs: MAX_EPOCHS + 1 }), 'BAD_REQUEST', /at most 100 epochs/);
    await refused(caller.train.start({ projectId, epochs: 500 }), 'BAD_REQUEST');
    await refused(caller.train.start({ projectId, hidden: [1024, 1024] }), 'BAD_REQUEST');
    await refused(caller.train.start({ projectId, hidden: [64, 64, 64, 64, 64] }), 'BAD_REQUEST');
    // saved before these bounds (or before the volume was known)
    svc.repo.setArtifact(projectId, 'featureSet', { specs: [{ filter: 'gaussian', sigmaUm: 200 }], preset: 'custom' });
    await refused(caller.train.start({ projectId }), 'BAD_REQUEST', /gaussian at 200 µm is too large/);
    expect(svc.repo.listJobs(projectId)).toHaveLength(0);
    svc.repo.deleteArtifact(projectId, 'featureSet');
  });

  it('strokes: epochs and the field of view of the proposals', async () => {
    await refused(caller.annotate.train({ projectId, epochs: MAX_EPOCHS + 1 }), 'BAD_REQUEST');
    await refused(caller.annotate.proposals({ projectId, fovUm: [1e6, 100, 100] }), 'BAD_REQUEST', /at most 100000 µm/);
    await refused(caller.annotate.propose({ projectId, fovUm: [100, 0, 100] }), 'BAD_REQUEST');
    expect(svc.repo.listJobs(projectId)).toHaveLength(0);
  });
});

describe('tRPC route: batch size and body size', () => {
  const host = { host: '127.0.0.1:3000' };
  async function route() {
    return (await import('@/app/api/trpc/[trpc]/route')) as { GET: (r: Request) => Promise<Response>; POST: (r: Request) => Promise<Response> };
  }

  it(`answers a batch of ${MAX_BATCH_SIZE} calls and refuses a larger one`, async () => {
    const { GET } = await route();
    const batch = (n: number) => {
      const paths = Array.from({ length: n }, () => 'projects.list').join(',');
      const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, {}]));
      return new Request(`http://127.0.0.1:3000/api/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, { headers: host });
    };
    const ok = await GET(batch(MAX_BATCH_SIZE));
    expect(ok.status).toBe(200);
    expect((await ok.json()) as unknown[]).toHaveLength(MAX_BATCH_SIZE);
    const tooMany = await GET(batch(MAX_BATCH_SIZE + 1));
    expect(tooMany.status).toBe(400);
    expect(await tooMany.text()).toMatch(/Batch call exceeds maximum size/);
  });

  it('refuses a mutation body above MAX_TRPC_BODY_BYTES (declared or streamed) and takes a normal one', async () => {
    const { POST } = await route();
    const url = 'http://127.0.0.1:3000/api/trpc/projects.create';
    const big = JSON.stringify({ json: { name: 'x'.repeat(MAX_TRPC_BODY_BYTES) } });
    const declared = await POST(new Request(url, { method: 'POST', headers: { ...host, 'content-type': 'application/json', 'content-length': String(big.length) }, body: big }));
    expect(declared.status).toBe(413);
    const streamed = await POST(new Request(url, { method: 'POST', headers: { ...host, 'content-type': 'application/json' }, body: chunked(new TextEncoder().encode(big)), duplex: 'half' } as RequestInit));
    expect(streamed.status).toBe(413);
    const ok = await POST(new Request(url, { method: 'POST', headers: { ...host, 'content-type': 'application/json' }, body: JSON.stringify({ json: { name: 'Small' } }) }));
    expect(ok.status).toBe(200);
    expect(svc.repo.projectByName('Small')).toBeDefined();
  });
});

/** A body without Content-Length, in 64 KiB chunks; counts what the reader pulled. */
function chunked(bytes: Uint8Array, pulled = { n: 0 }) {
  let o = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (o >= bytes.length) return c.close();
      const part = bytes.subarray(o, o + 65536);
      o += part.length;
      pulled.n += part.length;
      c.enqueue(part);
    },
  });
}

describe('painted-slice PUT body cap', () => {
  type Route = { PUT: (r: Request, c: { params: Promise<{ projectId: string }> }) => Promise<Response> };
  const url = () => `http://127.0.0.1:3000/api/projects/${projectId}/annotations/slice?axis=z&index=3`;
  const headers = { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000', 'content-type': 'application/octet-stream' };
  const put = async (init: RequestInit) => {
    const { PUT } = (await import('@/app/api/projects/[projectId]/annotations/slice/route')) as Route;
    return PUT(new Request(url(), { method: 'PUT', ...init }), { params: Promise.resolve({ projectId }) });
  };

  it('refuses a declared Content-Length above the slice size without reading the body', async () => {
    const pulled = { n: 0 };
    const r = await put({ headers: { ...headers, 'content-length': String(64 * 1024 * 1024) }, body: chunked(new Uint8Array(256 * 1024), pulled), duplex: 'half' } as RequestInit);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: string }).error).toMatch(/Painted slice z = 3.*67108864 bytes/);
    expect(pulled.n).toBeLessThanOrEqual(65536); // at most what the stream handed over before anyone read
  });

  it('stops reading a streamed body once it passes the slice size', async () => {
    const pulled = { n: 0 };
    const r = await put({ headers, body: chunked(new Uint8Array(8 * 1024 * 1024), pulled), duplex: 'half' } as RequestInit);
    expect(r.status).toBe(413);
    expect(pulled.n).toBeLessThan(ny * nx + 4096 + 3 * 65536);
  });

  it('takes a body of the slice size, and says what is wrong with a slightly wrong one', async () => {
    const s = new Uint8Array(ny * nx);
    for (let i = 0; i < 40; i++) s[i] = 1;
    const ok = await put({ headers, body: s });
    expect(ok.status).toBe(200);
    expect((await ok.json()) as { counts: Record<string, number> }).toMatchObject({ counts: { 1: 40 } });
    const short = await put({ headers, body: s.subarray(1) });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: string }).error).toMatch(/expected 40 × 32 = 1280 bytes/);
  });

  it('applies the Host/Origin guard (the route is outside proxy.ts)', async () => {
    const r = await put({ headers: { ...headers, origin: 'https://evil.example' }, body: new Uint8Array(ny * nx) });
    expect(r.status).toBe(403);
  });

  it('readBodyCapped: exact cap passes, one byte more does not', async () => {
    const body = new Uint8Array(1000).fill(7);
    const at = await readBodyCapped(new Request('http://x/', { method: 'PUT', body }), 1000, 'test');
    expect(at.ok && at.body.length).toBe(1000);
    const over = await readBodyCapped(new Request('http://x/', { method: 'PUT', body: chunked(body), duplex: 'half' } as RequestInit), 999, 'test');
    expect(over.ok).toBe(false);
  });
});
