/**
 * The Multi-scale step's server surface (issue 18, web): the state lists the interior scans with
 * their shapes and voxel sizes and the Annotate step's stored scan proposals with their centres;
 * place refuses hostile ids, non-finite numbers and a start outside the scan (a sentence a
 * mineralogist understands); the threshold procedure is bounded and stored; the composite-slice
 * route handler answers 404 before a run, 400 for a bad query, and after a real measurement
 * (lib/upscale through the job) sends the store's porosity and uncertainty of that slice, NaN where
 * no interior covers the class.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poseAffine, type Vec3 } from '@/lib/upscale/interior-pose';
import { writeMultiscaleSample, type MultiscaleTruth } from '@/lib/synthetic/multiscale/write-multiscale-node';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { newId } from '@/server/db/repo';
import { runDir } from '@/server/pipeline/multiscale';
import { createCaller } from '@/server/routers/_app';
import type { Services } from '@/server/services';
import { makeServices, type Fixture } from './annotate-helpers';

let fx: Fixture;
let svc: Services;
let caller: ReturnType<typeof createCaller>;
let projectId = '';
let scanId = '';
let interiorId = '';
let truth: MultiscaleTruth;
const g = globalThis as unknown as { __petromap?: Services };
const headers = { host: 'localhost' };
const SHAPE: Vec3 = [24, 32, 32];

async function addStore(storePath: string, name: string) {
  const s = await openVolume(storePath);
  const id = newId('d');
  svc.repo.insertDataset({ id, projectId, name, kind: 'volume', status: 'ready', relPath: svc.ws.rel(storePath), info: { meta: s.meta, levels: s.levels } });
  return id;
}

async function sliceRoute(pid: string, qs: string) {
  const route = await import('@/app/api/projects/[projectId]/multiscale/slice/route');
  return route.GET(new Request(`http://localhost/api/projects/${pid}/multiscale/slice?${qs}`, { headers }), { params: Promise.resolve({ projectId: pid }) });
}

const code = async (p: Promise<unknown>) => ((await p.then(() => null, (e: { code?: string }) => e)) as { code?: string; message?: string } | null);

beforeAll(async () => {
  fx = makeServices();
  svc = fx.svc;
  g.__petromap = svc;
  caller = createCaller({ svc });
  projectId = svc.repo.createProject('Multi-scale routes', 'lithology').id;
  // the top half of the sample (z < 12) is one layer: an interior there leaves the other classes uncovered
  const dir = path.join(fx.root, 'synthetic');
  truth = await writeMultiscaleSample(dir, { seed: 5, shape: SHAPE, ratio: 4, interiors: [{ centre: [6, 16, 16], angleDeg: 4, shape: [32, 48, 48] }] });
  scanId = await addStore(truth.paths.volume, 'plug-8um.ome.zarr');
  interiorId = await addStore(truth.interiors[0]!.path, 'core-2um.ome.zarr');
  const color: [number, number, number] = [100, 100, 200];
  svc.repo.setArtifact(projectId, 'lithologyPrediction', {
    volumeId: scanId, relPath: svc.ws.rel(truth.paths.classes), jobId: 'jpred1',
    classes: [1, 2, 3].map((c) => ({ code: c, name: ['high porosity', 'low porosity', 'fracture'][c - 1]!, color })),
    strokeCounts: {}, heldOutAccuracy: null, perClass: [], fractions: {}, createdAt: Date.now(),
  });
}, 120_000);
afterAll(() => {
  delete g.__petromap;
  fx?.cleanup();
});

describe('multiscale state, place and threshold', () => {
  it('lists the interior scan and the stored scan proposals with their centres', async () => {
    let s = await caller.multiscale.state({ projectId });
    expect(s.candidates.map((c) => [c.name, c.shape, c.spacingUm?.[2]])).toEqual([['core-2um.ome.zarr', [32, 48, 48], 2]]);
    expect(s.proposals).toBeNull();
    const box = { start: [2, 4, 6] as Vec3, shape: [8, 10, 12] as Vec3 };
    svc.repo.setArtifact(projectId, 'scanProposals', {
      key: 'k', source: 'prediction', version: 'prediction jpred1 1', fovUm: [64, 80, 96], classes: [{ code: 1, name: 'high porosity' }],
      result: { proposals: [{ code: 1, name: 'high porosity', purity: 0.9, box, startUm: [0, 0, 0], sizeUm: [64, 80, 96], centreUm: [0, 0, 0], fractions: [] }], fovVox: box.shape, absent: [], cellVox: 1 },
      jobId: 'jprop', createdAt: Date.now(),
    });
    s = await caller.multiscale.state({ projectId });
    expect(s.proposals?.current).toBe(true);
    expect(s.proposals?.list[0]?.centre).toEqual([5.5, 8.5, 11.5]);
  });

  it('refuses hostile ids, non-finite numbers and a start outside the scan', async () => {
    for (const bad of ['../x', 'a b', 'x'.repeat(65), '']) {
      expect((await code(caller.multiscale.place({ projectId, datasetId: bad, centre: [1, 1, 1], angleDeg: 0 })))?.code).toBe('BAD_REQUEST');
      expect((await code(caller.multiscale.place({ projectId: bad, datasetId: interiorId, centre: [1, 1, 1], angleDeg: 0 })))?.code).toBe('BAD_REQUEST');
    }
    for (const centre of [[NaN, 1, 1], [1, Infinity, 1], [1, 1, 1e7]] as Vec3[]) {
      expect((await code(caller.multiscale.place({ projectId, datasetId: interiorId, centre, angleDeg: 0 })))?.code).toBe('BAD_REQUEST');
    }
    expect((await code(caller.multiscale.place({ projectId, datasetId: interiorId, centre: [1, 1, 1], angleDeg: 181 })))?.code).toBe('BAD_REQUEST');
    const out = await code(caller.multiscale.place({ projectId, datasetId: interiorId, centre: [6, 16, 40], angleDeg: 0 }));
    expect(out?.code).toBe('BAD_REQUEST');
    expect(out?.message).toMatch(/lies outside the large scan "plug-8um\.ome\.zarr" \(24 × 32 × 32 voxels/);
    expect((await code(caller.multiscale.place({ projectId, datasetId: scanId, centre: [1, 1, 1], angleDeg: 0 })))?.message).toMatch(/is the project's large scan/);
    expect((await code(caller.multiscale.place({ projectId, datasetId: 'dnothere', centre: [1, 1, 1], angleDeg: 0 })))?.code).toBe('NOT_FOUND');
    expect((await caller.multiscale.state({ projectId })).interiors).toHaveLength(0);
  });

  it('stores a bounded threshold for a placed interior only', async () => {
    expect((await code(caller.multiscale.threshold({ projectId, datasetId: interiorId, threshold: 100 })))?.code).toBe('NOT_FOUND');
    await caller.multiscale.place({ projectId, datasetId: interiorId, centre: [6.5, 15.5, 16.5], angleDeg: 2 });
    for (const t of [1e12, NaN, -Infinity]) expect((await code(caller.multiscale.threshold({ projectId, datasetId: interiorId, threshold: t })))?.code).toBe('BAD_REQUEST');
    await caller.multiscale.threshold({ projectId, datasetId: interiorId, threshold: 1234.5 });
    expect((await caller.multiscale.state({ projectId })).interiors[0]?.threshold).toBe(1234.5);
    await caller.multiscale.threshold({ projectId, datasetId: interiorId, threshold: null });
    const it0 = (await caller.multiscale.state({ projectId })).interiors[0]!;
    expect([it0.threshold, it0.start.centre, it0.start.angleDeg]).toEqual([null, [6.5, 15.5, 16.5], 2]);
  });
});

describe('composite-slice route handler', () => {
  it('404 before a run, 400 for a bad query or project id', async () => {
    const none = await sliceRoute(projectId, 'axis=z&index=3');
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: string }).error).toMatch(/no composite model yet/);
    for (const qs of ['axis=w&index=1', 'axis=z&index=-1', 'axis=z&index=1.5', 'axis=z', 'axis=z&index=99999999']) expect((await sliceRoute(projectId, qs)).status).toBe(400);
    expect((await sliceRoute('..%2Fetc', 'axis=z&index=1')).status).toBe(404);
    expect((await sliceRoute('pnothere', 'axis=z&index=1')).status).toBe(404);
  });

  it('after a measurement: the slice of the store, porosity then uncertainty, NaN where no class is measured', async () => {
    // the registration stands at the truth pose (registering is lib's and the e2e test's); the job measures for real
    const t = truth.interiors[0]!;
    const file = path.join(svc.ws.projectDir(projectId), 'multiscale', 'state.json');
    const st = JSON.parse(await readFile(file, 'utf8'));
    const hiToLow = poseAffine(t.pose, [32, 48, 48]);
    st.interiors[0].registration = { scanId, pose: t.pose, hiToLow, factor: 4, quality: { nccFinal: 0.9 }, auto: null, at: 1 };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(st));
    const { jobId } = await caller.multiscale.measure({ projectId });
    expect((await svc.jobs.wait(jobId)).error).toBeNull();
    const s = await caller.multiscale.state({ projectId });
    expect(s.result?.interiors[0]?.segmentation).toBe('otsu');
    expect(s.result?.classes.some((c) => !c.covered)).toBe(true);

    const res = await sliceRoute(projectId, 'axis=y&index=16');
    expect(res.status).toBe(200);
    const [w, h] = [Number(res.headers.get('X-Slice-Width')), Number(res.headers.get('X-Slice-Height'))];
    expect([w, h]).toEqual([32, 24]); // XZ: columns x, rows z
    const got = new Float32Array(await res.arrayBuffer());
    expect(got.length).toBe(2 * w * h);
    const store = await openVolume(path.join(runDir(svc, projectId), 'composite.ome.zarr'));
    const box = { start: [0, 16, 0] as Vec3, shape: [24, 1, 32] as Vec3 };
    const por = await store.readBlockF32(box, { channel: 0 }), unc = await store.readBlockF32(box, { channel: 1 });
    expect(Array.from(got.subarray(0, w * h))).toEqual(Array.from(por));
    expect(Array.from(got.subarray(w * h))).toEqual(Array.from(unc));
    const finite = Array.from(por).filter(Number.isFinite);
    expect(finite.length).toBeGreaterThan(0);
    expect(finite.length).toBeLessThan(w * h); // uncovered classes carry no value
    expect(finite.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect((await sliceRoute(projectId, 'axis=z&index=24')).status).toBe(400); // one past the last slice
  }, 180_000);
});

describe('painted pore/solid corrections', () => {
  async function poresRoute(method: 'GET' | 'PUT', qs: string, body?: Uint8Array) {
    const route = await import('@/app/api/projects/[projectId]/multiscale/pores/route');
    const req = new Request(`http://localhost/api/projects/${projectId}/multiscale/pores?${qs}`, { method, headers, body: body ? new Uint8Array(body) : undefined });
    return route[method](req, { params: Promise.resolve({ projectId }) });
  }
  const [nz, ny, nx] = [32, 48, 48];

  it('the route refuses hostile ids, bad sizes and codes, and bodies over the slice size; reads back what it stored', async () => {
    for (const qs of ['dataset=..%2Fx&axis=z&index=0', 'dataset=&axis=z&index=0', `dataset=${interiorId}&axis=q&index=0`, `dataset=${interiorId}&axis=z&index=-2`, `dataset=${interiorId}&axis=z&index=0&layer=x`]) {
      expect((await poresRoute('GET', qs)).status).toBe(400);
    }
    expect((await poresRoute('GET', `dataset=dnothere&axis=z&index=0`)).status).toBe(404);
    expect((await poresRoute('GET', `dataset=${scanId}&axis=z&index=0`)).status).toBe(400); // the large scan is not an interior
    expect((await poresRoute('GET', `dataset=${interiorId}&axis=z&index=${nz}`)).status).toBe(400);
    const empty = await poresRoute('GET', `dataset=${interiorId}&axis=z&index=3`);
    expect([empty.headers.get('X-Slice-Width'), empty.headers.get('X-Slice-Height')]).toEqual([String(nx), String(ny)]);
    expect(new Uint8Array(await empty.arrayBuffer()).every((v) => v === 0)).toBe(true);
    expect((await poresRoute('PUT', `dataset=${interiorId}&axis=z&index=3`, new Uint8Array(nx * ny - 1))).status).toBe(400);
    const bad = new Uint8Array(nx * ny);
    bad[5] = 3;
    const r3 = await poresRoute('PUT', `dataset=${interiorId}&axis=z&index=3`, bad);
    expect([r3.status, ((await r3.json()) as { error: string }).error]).toEqual([400, expect.stringMatching(/code 3 at column 5, row 0; only 0 \(none\), 1 \(pore\) and 2 \(solid\)/)]);
    expect((await poresRoute('PUT', `dataset=${interiorId}&axis=z&index=3`, new Uint8Array(nx * ny + 5000))).status).toBe(413);
    expect((await poresRoute('PUT', `dataset=${interiorId}&axis=z&index=3&layer=prediction`, new Uint8Array(nx * ny))).status).toBe(400);
    expect((await caller.multiscale.state({ projectId })).interiors[0]?.pores.counts).toEqual({});
    const e = await code(caller.multiscale.trainPores({ projectId, datasetId: interiorId }));
    expect([e?.code, e?.message]).toEqual(['UNPROCESSABLE_CONTENT', expect.stringMatching(/Paint both pore and solid/)]);
    expect((await code(caller.multiscale.usePores({ projectId, datasetId: interiorId, use: true })))?.message).toMatch(/Train on painted pore\/solid strokes first/);
  });

  it('a stroke saved from an older copy of a slice keeps what another view saved meanwhile (KEEP_VOXEL: the page sends only what its stroke changed)', async () => {
    const q = `dataset=${interiorId}&axis=z&index=3`;
    const copy = new Uint8Array(await (await poresRoute('GET', q)).arrayBuffer());
    // another view's stroke crossing z = 3 (here: saved on this slice directly): pore at row 4, x 2..5
    const crossing = copy.slice();
    for (let x = 2; x < 6; x++) crossing[4 * nx + x] = 1;
    expect((await poresRoute('PUT', q, crossing.map((c, i) => (c === copy[i] ? 255 : c)))).status).toBe(200);
    // this panel's stroke from its older copy: solid at row 10, x 7..9
    const mine = copy.slice();
    for (let x = 7; x < 10; x++) mine[10 * nx + x] = 2;
    expect((await poresRoute('PUT', q, mine.map((c, i) => (c === copy[i] ? 255 : c)))).status).toBe(200);
    const stored = new Uint8Array(await (await poresRoute('GET', q)).arrayBuffer());
    expect([...stored.subarray(4 * nx + 2, 4 * nx + 6)]).toEqual([1, 1, 1, 1]);
    expect([...stored.subarray(10 * nx + 7, 10 * nx + 10)]).toEqual([2, 2, 2]);
    // erased again (a whole slice of zeros still replaces the slice)
    expect((await poresRoute('PUT', q, new Uint8Array(nx * ny))).status).toBe(200);
    expect(new Uint8Array(await (await poresRoute('GET', q)).arrayBuffer()).every((v) => v === 0)).toBe(true);
  });

  it('trains the engine on painted voxels, then the measurement takes its pores', async () => {
    // paint what the grey says unambiguously (far from the pore/grain boundary) on three slices
    const interior = await openVolume(truth.interiors[0]!.path);
    let lo = Infinity, hi = -Infinity;
    const all = await interior.readBlockF32({ start: [0, 0, 0], shape: [nz, ny, nx] });
    for (const v of all) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    let painted = 0;
    for (const z of [6, 16, 26]) {
      const g = all.subarray(z * ny * nx, (z + 1) * ny * nx), s = new Uint8Array(nx * ny);
      for (let i = 0; i < s.length; i += 3) s[i] = g[i]! < lo + 0.2 * (hi - lo) ? 1 : g[i]! > lo + 0.6 * (hi - lo) ? 2 : 0;
      painted += s.filter(Boolean).length;
      const r = await poresRoute('PUT', `dataset=${interiorId}&axis=z&index=${z}`, s);
      expect(r.status).toBe(200);
    }
    const counts = (await caller.multiscale.state({ projectId })).interiors[0]!.pores.counts;
    expect((counts['1'] ?? 0) + (counts['2'] ?? 0)).toBe(painted);
    expect(counts['1']).toBeGreaterThan(50);
    const back = new Uint8Array(await (await poresRoute('GET', `dataset=${interiorId}&axis=z&index=16`)).arrayBuffer());
    expect(back.filter(Boolean).length).toBeGreaterThan(0);
    const { jobId } = await caller.multiscale.trainPores({ projectId, datasetId: interiorId });
    expect((await svc.jobs.wait(jobId)).error).toBeNull();
    const p = (await caller.multiscale.state({ projectId })).interiors[0]!.pores;
    expect(p.use).toBe(true);
    expect(p.trained?.poreFraction).toBeGreaterThan(0.02);
    const pred = new Uint8Array(await (await poresRoute('GET', `dataset=${interiorId}&axis=x&index=20&layer=prediction`)).arrayBuffer());
    expect(pred.length).toBe(nz * ny);
    expect(pred.every((v) => v === 1 || v === 2)).toBe(true);
    const m = await caller.multiscale.measure({ projectId });
    expect((await svc.jobs.wait(m.jobId)).error).toBeNull();
    const r = (await caller.multiscale.state({ projectId })).result!;
    expect(r.interiors[0]?.segmentation).toBe('labels');
    // the trained pores measure the covered class close to the truth (threshold-free)
    const covered = r.classes.find((c) => c.covered)!;
    expect(Math.abs(covered.calibration!.mean - truth.classes.find((c) => c.code === covered.code)!.porosity)).toBeLessThan(0.05);
    await caller.multiscale.usePores({ projectId, datasetId: interiorId, use: false });
    expect((await caller.multiscale.state({ projectId })).interiors[0]?.pores.use).toBe(false);
    // removing the interior removes its strokes and trained pores
    await caller.multiscale.remove({ projectId, datasetId: interiorId });
    expect(existsSync(path.join(svc.ws.projectDir(projectId), 'multiscale', `pores-${interiorId}`))).toBe(false);
  }, 240_000);
});
