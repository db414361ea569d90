/**
 * Issue 19, stop 32: does a generative criterion (generative-score.ts: the map rendered in the
 * scan's grey, blurred by the scan's measured point spread, least squares) have its optimum nearer
 * the truth than the registration's correlation ratio on the kept affines' maps?
 * `npx tsx bench/_affine-generative.ts cache [name part]`: registers each distorted map of the bench
 * table, the held-out and fresh lists with the affine requested (as bench/_affine-decompose.ts) and
 * stores what the polish sees (slab and its deeper twin, G, the polished affine, the map, the truth)
 * under $A4_CACHE (default /tmp/petromap-affine-generative).
 * `npx tsx bench/_affine-generative.ts measure [file name part]`: on the stored maps, the centre of
 * each criterion's basin at the TRUE area started at T* (the truth projected on the found slab):
 * the correlation ratio (shipped), the rendered map on the extrapolated slab (sigma measured, and
 * 0.8) and on the plain slab; error mean voxel against the generator's truth. With A4_BSE=1: the
 * ratio, the rendered map and the rendered map with the BSE. With A4_POLISH=1: the kept affine's
 * polish at the area it used (affine-polish.ts polishAtArea, patches and area as shipped) on the
 * ratio (as stored, and again) and on the rendered map with the BSE.
 * A4_SCAN (diagnostics; each its own cache): clean (scanned without noise), psf04 (and a 0.4-voxel
 * point spread), nodefect / psf04nodefect (those, with the map's boundary and speckle defects left
 * out), noisynodefect (the scan as shipped, the map without defects), nomix, nospeckle (one of the
 * two defects left out). A measurement; the registration uses none of this file.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyAffine2to3, composeAffine2to3, projectToAffine2to3, type Affine2, type Affine2to3 } from '../lib/coords';
import type { MineralMap } from '../lib/eds/types';
import { polishAtArea, surfaceScore, surfaceSlab } from '../lib/registration/affine-polish';
import { climbAffine, withDeterminant } from '../lib/registration/affine-climb';
import { lsAffineStart, measurePatches, patchAreaChange } from '../lib/registration/choose-model';
import { basinCentre } from '../lib/registration/basin-centre';
import { polishSimilarity } from '../lib/registration/similarity-polish';
import type { SlabWithBelow } from '../lib/registration/extract-slab';
import { generativeScore } from '../lib/registration/generative-score';
import { movingImage } from '../lib/registration/moving-image';
import { registrationErrorAt } from '../lib/registration/quality';
import { EDGE_ERODE_PX, erodeSlabEdge } from '../lib/registration/refine-fields';
import { registerEdsToVolume } from '../lib/registration/register-eds';
import type { Slab } from '../lib/registration/types';
import { generateSandstone } from '../lib/synthetic';
import { distortEdsMap } from '../lib/synthetic/eds';
import { AFFINE_AFTER, AFFINE_AFTER_AREA, AFFINE_FRESH, AFFINE_HELD_OUT, DISTORTED } from './_affine-held';

type Case = (typeof AFFINE_HELD_OUT)[number];
const det = (m: Affine2) => m[0] * m[4] - m[1] * m[3];
/** A4_SCAN=clean: the same samples scanned without noise, rings or Poisson noise; psf04: also a 0.4-voxel point spread (diagnostics) */
const SCAN = process.env.A4_SCAN ?? '';
const CLEAN = { noise: 0, poissonNoise: 0, ringArtefact: 0 };
const SCAN_OPTS = { '': {}, clean: CLEAN, psf04: { ...CLEAN, psfSigmaVox: 0.4 }, nodefect: CLEAN, psf04nodefect: { ...CLEAN, psfSigmaVox: 0.4 }, noisynodefect: {}, nomix: {}, nospeckle: {} }[SCAN] ?? {};
/** the EDS map without its boundary and speckle defects (diagnostics) */
const EDS_OPTS = SCAN.includes('nodefect') ? { boundaryMixing: 0, unclassifiedFraction: 0 } : SCAN === 'nomix' ? { boundaryMixing: 0 } : SCAN === 'nospeckle' ? { unclassifiedFraction: 0 } : {};
const DIR = (process.env.A4_CACHE ?? '/tmp/petromap-affine-generative') + (SCAN ? `-${SCAN}` : '');
const TABLE: Case[] = DISTORTED.filter((c) => !c.fields);
export const SETS: [string, Case[]][] = [['table', TABLE], ['held', AFFINE_HELD_OUT], ['fresh', AFFINE_FRESH], ['after', AFFINE_AFTER], ['after2', AFFINE_AFTER_AREA]];

interface Stored {
  set: string; name: string; auto: string; shape: [number, number, number];
  slab: Omit<Slab, 'data'> & { data: string; below: string };
  slabToVoxel: Affine2to3; G: Affine2; affine: Affine2; truthAffine: Affine2to3; used: number;
  eds: { width: number; height: number; pixelSizeUm: number; labels: string };
}

const b64 = (a: Float32Array | Uint16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const f32 = (s: string) => { const b = Buffer.from(s, 'base64'); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
const u16 = (s: string) => { const b = Buffer.from(s, 'base64'); return new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
const file = (set: string, c: Case) => join(DIR, `${set}-s${c.seed}-${c.name.replace(/\W+/g, '_')}.json`);

export function sample(c: Case) {
  return c.big ? generateSandstone({ shape: [64, 160, 160], seed: c.seed, ...SCAN_OPTS, eds: EDS_OPTS }) : generateSandstone({
    ...SCAN_OPTS, shape: [24, 128, 128], voxelUm: 2, seed: c.seed, surfaceDepthVox: 4 + (c.seed % 4), tiltDeg: 1 + (c.seed % 3), tiltAzimuthDeg: 37 * c.seed,
    eds: { ...EDS_OPTS, rotationDeg: 53 * c.seed, pixelUm: 2 * c.ratio, mirrored: c.seed % 2 === 0, offsetVox: { x: ((c.seed * 7) % 11) - 5, y: ((c.seed * 5) % 9) - 4 } },
  });
}

async function cacheOne(set: string, c: Case): Promise<void> {
  const s = sample(c), m = distortEdsMap(s, c.d);
  const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, model: 'affine' });
  const slab = r.slab as SlabWithBelow;
  const why = r.modelChoice?.reason ?? '';
  const st: Stored = {
    set, name: c.name, auto: why.match(/^affine: requested \((affine|similarity)/)?.[1] ?? '?', shape: s.volume.meta.shape as [number, number, number],
    slab: { ...slab, data: b64(slab.data), below: b64(slab.below!) }, slabToVoxel: r.slabToVoxel, G: r.candidates!.similarity.edsToSlab, affine: r.edsToSlab,
    truthAffine: m.truthAffine, used: Number(why.match(/polished at area ([+-]\d+\.\d+) %/)?.[1] ?? NaN) / 100,
    eds: { width: m.eds.width, height: m.eds.height, pixelSizeUm: m.eds.pixelSizeUm, labels: b64(m.eds.labels) },
  };
  writeFileSync(file(set, c), JSON.stringify(st));
}

/** A stored map made ready: the slab with its deeper twin, the moving image, G, T*, the error of an EDS -> slab affine. */
export function load(path: string) {
  const st = JSON.parse(readFileSync(path, 'utf8')) as Stored;
  const slab: SlabWithBelow = { ...st.slab, data: f32(st.slab.data), below: f32(st.slab.below) };
  const eds = { width: st.eds.width, height: st.eds.height, pixelSizeUm: st.eds.pixelSizeUm, labels: u16(st.eds.labels), legend: [], companions: [] } as unknown as MineralMap;
  const mov = movingImage(eds), mw = mov.width, mh = mov.height;
  const truth = (u: number, v: number) => applyAffine2to3(st.truthAffine, u, v);
  const err = (a: Affine2) => registrationErrorAt((u, v) => applyAffine2to3(composeAffine2to3(st.slabToVoxel, a), u, v), truth, mw, mh, st.shape).mean;
  const pj = (u: number, v: number) => projectToAffine2to3(st.slabToVoxel, ...truth(u, v));
  const [p0, p1, p2] = [pj(0, 0), pj(1, 0), pj(0, 1)];
  const T: Affine2 = [p1[0] - p0[0], p2[0] - p0[0], p0[0], p1[1] - p0[1], p2[1] - p0[1], p0[1]];
  return { st, slab, mov, mw, mh, err, T };
}

/** The map's BSE companion, made again from the generator (the cache does not hold it). */
function bseOf(st: Stored): Float32Array {
  const c = SETS.find(([set]) => set === st.set)![1].find((x) => x.name === st.name)!;
  return distortEdsMap(sample(c), c.d).eds.companions[0].data;
}

function measureOne(path: string): number[] {
  const { st, slab, mov, mw, mh, err, T } = load(path);
  if (process.env.A4_POLISH) {
    // the kept affine's polish at the area it used, the final basin on each criterion (the climbs and the area as shipped)
    const X = surfaceSlab(slab).slab, maskX = Uint8Array.from(erodeSlabEdge(X, EDGE_ERODE_PX).data, (g) => (g === g ? 1 : 0));
    const G = st.G, cu = (mw - 1) / 2, cv = (mh - 1) / 2;
    const pm = measurePatches(slab, mov, G), ls = lsAffineStart(pm, G, mw, mh);
    const area = withDeterminant(G, det(G) * (1 + st.used), cu, cv);
    const ship = surfaceScore(slab, mov, G).score;
    const gb = generativeScore(X, mov, G, maskX, undefined, bseOf(st));
    const again = err(polishAtArea(ship, G, ls, area, mw, mh));
    const viaGen = err(polishAtArea(gb.score, G, ls, area, mw, mh));
    const climbRatioBasinGen = (() => {
      const fromG = climbAffine(ship, G, mw, mh, { area }), fromLs = ls ? climbAffine(ship, ls, mw, mh, { area }) : fromG;
      return err(basinCentre(gb.score, (fromLs.score > fromG.score ? fromLs : fromG).edsToSlab, mw, mh, { area }).edsToSlab);
    })();
    const row = [err(st.affine), again, viaGen, climbRatioBasinGen];
    console.log(`${st.set.padEnd(5)} ${st.name.slice(0, 30).padEnd(30)} ${String(mw).padStart(3)} px ${st.auto.padEnd(10)} | shipped ${row[0].toFixed(4)} (again ${row[1].toFixed(4)}) | gen+BSE climbs and basin ${row[2].toFixed(4)} | ratio climbs, gen+BSE basin ${row[3].toFixed(4)} (sigma ${gb.sigma})`);
    return row;
  }
  if (process.env.A4_SIM) {
    // the similarity polish (similarity-polish.ts: rigid climb, rigid basin at G's area) on the ratio and on the rendered map with the BSE
    const X = surfaceSlab(slab).slab, maskX = Uint8Array.from(erodeSlabEdge(X, EDGE_ERODE_PX).data, (g) => (g === g ? 1 : 0));
    const G = st.G;
    const gb = generativeScore(X, mov, G, maskX, undefined, bseOf(st));
    const rigid = (f: (m: Affine2) => number) => basinCentre(f, climbAffine(f, G, mw, mh, { rigid: true }).edsToSlab, mw, mh, { rigid: true }).edsToSlab;
    const row = [err(polishSimilarity(slab, mov, G).edsToSlab), err(rigid(gb.score))];
    console.log(`${st.set.padEnd(5)} ${st.name.slice(0, 30).padEnd(30)} ${String(mw).padStart(3)} px ${st.auto.padEnd(10)} | similarity polish: ratio ${row[0].toFixed(4)} rendered with BSE ${row[1].toFixed(4)}`);
    return row;
  }
  if (process.env.A4_AREA) {
    // the area: the shipped one against the free-area basin of the rendered map with the BSE (from the polished affine, as the decomposition does)
    const X = surfaceSlab(slab).slab, maskX = Uint8Array.from(erodeSlabEdge(X, EDGE_ERODE_PX).data, (g) => (g === g ? 1 : 0));
    const G = st.G, cu = (mw - 1) / 2, cv = (mh - 1) / 2;
    const pm = measurePatches(slab, mov, G), ls = lsAffineStart(pm, G, mw, mh), pa = patchAreaChange(pm.pts);
    const gb = generativeScore(X, mov, G, maskX, undefined, bseOf(st));
    const free = det(basinCentre(gb.score, st.affine, mw, mh, { area: false, rounds: 3 }).edsToSlab) / det(G) - 1;
    const truth = det(T) / det(G) - 1;
    const at = (a: number) => err(polishAtArea(gb.score, G, ls, withDeterminant(G, det(G) * (1 + a), cu, cv), mw, mh));
    const mixed = pa ? 0.5 * (pa.a + free) : free;
    const row = [Math.abs(st.used - truth), Math.abs(free - truth), Math.abs(mixed - truth), at(st.used), at(free), at(mixed)];
    const p2 = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
    console.log(`${st.set.padEnd(5)} ${st.name.slice(0, 30).padEnd(30)} ${String(mw).padStart(3)} px ${st.auto.padEnd(10)} | area % true ${p2(truth)} used ${p2(st.used)} rendered free ${p2(free)} mean with patches ${p2(mixed)} | rendered polish at used ${row[3].toFixed(4)} at free ${row[4].toFixed(4)} at mean ${row[5].toFixed(4)}`);
    return row;
  }
  if (process.env.A4_BSE) {
    const X = surfaceSlab(slab).slab, maskX = Uint8Array.from(erodeSlabEdge(X, EDGE_ERODE_PX).data, (g) => (g === g ? 1 : 0));
    const basin = (f: (m: Affine2) => number) => err(basinCentre(f, T, mw, mh, { area: T }).edsToSlab);
    const ship = basin(surfaceScore(slab, mov, st.G).score);
    const gb = generativeScore(X, mov, st.G, maskX, undefined, bseOf(st)), g = generativeScore(X, mov, st.G, maskX);
    const row = [ship, basin(g.score), basin(gb.score)];
    console.log(`${st.set.padEnd(5)} ${st.name.slice(0, 30).padEnd(30)} ${String(mw).padStart(3)} px | basin at T*: ratio ${row[0].toFixed(3)} gen ${row[1].toFixed(3)} gen + BSE (sigma ${gb.sigma}) ${row[2].toFixed(3)}`);
    return row;
  }
  const G = st.G;
  const ship = surfaceScore(slab, mov, G).score;
  const X = surfaceSlab(slab).slab, maskX = Uint8Array.from(erodeSlabEdge(X, EDGE_ERODE_PX).data, (g) => (g === g ? 1 : 0));
  const plain = slab as Slab, maskP = Uint8Array.from(erodeSlabEdge(plain, EDGE_ERODE_PX).data, (g) => (g === g ? 1 : 0));
  const basin = (f: (m: Affine2) => number) => err(basinCentre(f, T, mw, mh, { area: T }).edsToSlab);
  const genX = generativeScore(X, mov, G, maskX), genP = generativeScore(plain, mov, G, maskP);
  const gen08 = generativeScore(X, mov, G, maskX, 0.8);
  const row = [err(T), err(st.affine), basin(ship), basin(genX.score), basin(gen08.score), basin(genP.score)];
  const f3 = (v: number) => v.toFixed(3);
  console.log(`${st.set.padEnd(5)} ${st.name.slice(0, 30).padEnd(30)} ${String(mw).padStart(3)} px ${st.auto.padEnd(10)} | T* ${f3(row[0])} affine ${f3(row[1])} | basin at T*: ratio ${f3(row[2])} gen(X, sigma ${genX.sigma}) ${f3(row[3])} gen(X, 0.8) ${f3(row[4])} gen(plain, sigma ${genP.sigma}) ${f3(row[5])}`);
  return row;
}

async function main(): Promise<void> {
  const [mode, only] = process.argv.slice(2);
  mkdirSync(DIR, { recursive: true });
  if (mode === 'cache') {
    for (const [set, list] of SETS) for (const c of list) {
      if ((only && !c.name.includes(only)) || existsSync(file(set, c))) continue;
      const t0 = Date.now();
      await cacheOne(set, c);
      console.log(`${set} ${c.name} cached in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    return;
  }
  const rows: number[][] = [];
  for (const f of readdirSync(DIR).filter((x) => x.endsWith('.json')).sort()) {
    if (only && !f.includes(only)) continue;
    rows.push(measureOne(join(DIR, f)));
  }
  const labels = process.env.A4_SIM ? ['similarity on the ratio', 'on the rendered map with BSE'] : process.env.A4_AREA ? ['|area err| used', 'rendered free', 'mean with patches', 'polish at used', 'at free', 'at mean'] : process.env.A4_POLISH ? ['shipped', 'again', 'rendered with BSE', 'ratio climbs, BSE basin'] : process.env.A4_BSE ? ['ratio', 'rendered', 'rendered with BSE']
    : ['T*', 'affine', 'ratio', 'rendered X', 'rendered X 0.8', 'rendered plain'];
  const mean = (k: number) => (rows.reduce((a, r) => a + r[k], 0) / rows.length).toFixed(4);
  console.log(`${rows.length} maps, mean (over 0.15): ${labels.map((l, k) => `${l} ${mean(k)} (${rows.filter((r) => r[k] > 0.15).length})`).join(', ')}`);
}

if (process.argv[1]?.endsWith('_affine-generative.ts')) main().catch((e) => { console.error(e); process.exit(1); });
