/**
 * `npm run bench -- register-distorted decompose [name part]`: where each distorted map's error
 * comes from (issue 19, stop 31; docs/registration-models.md). Each map of the bench table, the
 * held-out and the fresh lists (bench/_affine-held.ts) is registered with the affine requested, so
 * the similarity G and the polished affine are both at hand whatever `auto` would keep, and the
 * error (mean voxel against the generator's per-pixel truth) is split into:
 * - **slab**: T*, the truth projected on the found slab (the best any 2D affine on it can do), and
 *   the found plane's depth error at the map centre (voxels along z);
 * - **area**: the polish (affine-polish.ts polishAtArea) at the TRUE area, against the area it used;
 *   the areas in % against G: the truth's, used, the patch shifts' (± jackknife se), the criterion's
 *   free-area basin centre (as the polish measures it) and the same without the overlap damping;
 * - **criterion**: the centre of the criterion's basin at the true area started AT T* (the
 *   criterion's own optimum there, start-independent), and how much of it is a shift of the map
 *   centre (the error left once that shift is taken out).
 * Nothing here is used by the registration; it is a measurement.
 */
import { applyAffine2, applyAffine2to3, composeAffine2to3, invertAffine2, projectToAffine2to3, type Affine2 } from '../lib/coords';
import { polishAtArea, surfaceScore, surfaceSlab } from '../lib/registration/affine-polish';
import { basinCentre } from '../lib/registration/basin-centre';
import { lsAffineStart, measurePatches, patchAreaChange } from '../lib/registration/choose-model';
import type { SlabWithBelow } from '../lib/registration/extract-slab';
import { movingImage } from '../lib/registration/moving-image';
import { scoreAffine } from '../lib/registration/pose';
import { registrationErrorAt } from '../lib/registration/quality';
import { EDGE_ERODE_PX, erodeSlabEdge } from '../lib/registration/refine-fields';
import { registerEdsToVolume } from '../lib/registration/register-eds';
import { generateSandstone } from '../lib/synthetic';
import { distortEdsMap } from '../lib/synthetic/eds';
import { AFFINE_FRESH, AFFINE_HELD_OUT, DISTORTED } from './_affine-held';

type Case = (typeof AFFINE_HELD_OUT)[number];
const det = (m: Affine2) => m[0] * m[4] - m[1] * m[3];

/** The distorted maps of the bench table (register-distorted's, without the mosaics). */
const TABLE: Case[] = DISTORTED.filter((c) => !c.fields);

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;

/** One map's decomposition, as one line. */
async function decomposeOne(set: string, c: Case): Promise<string> {
  const s = c.big ? generateSandstone({ shape: [64, 160, 160], seed: c.seed }) : generateSandstone({
    shape: [24, 128, 128], voxelUm: 2, seed: c.seed, surfaceDepthVox: 4 + (c.seed % 4), tiltDeg: 1 + (c.seed % 3), tiltAzimuthDeg: 37 * c.seed,
    eds: { rotationDeg: 53 * c.seed, pixelUm: 2 * c.ratio, mirrored: c.seed % 2 === 0, offsetVox: { x: ((c.seed * 7) % 11) - 5, y: ((c.seed * 5) % 9) - 4 } },
  });
  const m = distortEdsMap(s, c.d);
  const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, model: 'affine' });
  const slab = r.slab as SlabWithBelow, mov = movingImage(m.eds), mw = mov.width, mh = mov.height, cu = (mw - 1) / 2, cv = (mh - 1) / 2;
  const err = (a: Affine2) => registrationErrorAt((u, v) => applyAffine2to3(composeAffine2to3(r.slabToVoxel, a), u, v), m.truthAt, mw, mh, s.volume.meta.shape).mean;
  const G = r.candidates!.similarity.edsToSlab;
  // T*: the truth projected on the found slab (exact for an affine truth: three points fix it)
  const pj = (u: number, v: number) => projectToAffine2to3(r.slabToVoxel, ...applyAffine2to3(m.truthAffine, u, v));
  const [p0, p1, p2] = [pj(0, 0), pj(1, 0), pj(0, 1)];
  const T: Affine2 = [p1[0] - p0[0], p2[0] - p0[0], p0[0], p1[1] - p0[1], p2[1] - p0[1], p0[1]];
  const x = applyAffine2to3(m.truthAffine, cu, cv), tz = s.truth.surface, fz = r.surface;
  const dz = fz.a * x[2] + fz.b * x[1] + fz.c - (tz.a * x[2] + tz.b * x[1] + tz.c);
  const { score } = surfaceScore(slab, mov, G);
  const pm = measurePatches(slab, mov, G), pa = patchAreaChange(pm.pts);
  const atTrue = polishAtArea(score, G, lsAffineStart(pm, G, mw, mh), T, mw, mh);
  const bT = basinCentre(score, T, mw, mh, { area: T }).edsToSlab;
  // the basin's centre moved back so that the map centre lands where T* puts it: what is left is its linear part
  const [bu, bv] = applyAffine2(bT, cu, cv), [tu, tv] = applyAffine2(T, cu, cv);
  const rest = err([bT[0], bT[1], bT[2] + tu - bu, bT[3], bT[4], bT[5] + tv - bv]);
  // the free-area basin as the polish measures it (from the kept candidate there; here from the polished affine), with and without the overlap damping
  const X = surfaceSlab(slab).slab, mask = Uint8Array.from(erodeSlabEdge(X, EDGE_ERODE_PX).data, (g) => (g === g ? 1 : 0));
  const undamped = (a: Affine2) => scoreAffine(X.data, X.width, X.height, mov, invertAffine2(a), mask).score;
  const freeArea = (f: (a: Affine2) => number) => det(basinCentre(f, r.edsToSlab, mw, mh, { area: false, rounds: 3 }).edsToSlab) / det(G) - 1;
  const why = r.modelChoice?.reason ?? '';
  const auto = why.match(/^affine: requested \((affine|similarity)/)?.[1] ?? '?';
  const used = Number(why.match(/polished at area ([+-]\d+\.\d+) %/)?.[1] ?? NaN) / 100;
  const f3 = (v: number) => v.toFixed(3);
  return `${set.padEnd(5)} ${c.name.slice(0, 30).padEnd(30)} ${String(mw).padStart(3)} px ${auto.padEnd(10)} | T* ${f3(err(T))} dz ${dz >= 0 ? '+' : ''}${dz.toFixed(2)} | G ${f3(err(G))} affine ${f3(err(r.edsToSlab))} at true area ${f3(err(atTrue))} | basin at T* ${f3(err(bT))} (shift ${Math.hypot(bu - tu, bv - tv).toFixed(2)} px, rest ${f3(rest)}) | area % true ${pct(det(T) / det(G) - 1)} used ${pct(used)} patches ${pa ? `${pct(pa.a)}±${(100 * pa.se).toFixed(2)}` : 'n/a'} basin ${pct(freeArea(score))} undamped ${pct(freeArea(undamped))}`;
}

export async function decompose(only?: string): Promise<void> {
  console.log('\nissue 19: where the error comes from (mean voxel against the generator\'s truth; the affine requested, `auto` would keep the model named)');
  const sets: [string, Case[]][] = [['table', TABLE], ['held', AFFINE_HELD_OUT], ['fresh', AFFINE_FRESH]];
  for (const [set, list] of sets) for (const c of list) {
    if (only && !c.name.includes(only)) continue;
    console.log(await decomposeOne(set, c));
  }
}
