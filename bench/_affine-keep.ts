/**
 * Issue 19, stop 32: which test of the affine keep decision (choose-model.ts judgeAffine) says no.
 * `npx tsx bench/_affine-keep.ts cache fresh|blind`: registers AFFINE_KEEP_FRESH or AFFINE_KEEP_BLIND
 * with the affine requested and stores what the decision sees, in bench/_affine-generative.ts's
 * format, under $K_CACHE (default /tmp/petromap-affine-keep-<list>).
 * `npx tsx bench/_affine-keep.ts measure <dir> [file name part]`: on stored maps (these, or
 * bench/_affine-generative.ts's cache), the decision again on the stored similarity G (as shipped:
 * patch shifts, F, the climbed candidate's whole-map gain, the bar, the split halves, the stretch),
 * and what the criterion says of the truth (T*, projected on the found slab): its whole-map gain
 * over G, and the mean error (voxel) of G and of the affine the run requested. One JSON line a map.
 * A measurement; the registration uses none of this file.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invertAffine2 } from '../lib/coords';
import { judgeAffine, measurePatches, patchF, wholeGainBar, type ScoreOn } from '../lib/registration/choose-model';
import type { SlabWithBelow } from '../lib/registration/extract-slab';
import { scoreAffine } from '../lib/registration/pose';
import { expectedOverlap, poseScore } from '../lib/registration/refine-pose';
import { registerEdsToVolume } from '../lib/registration/register-eds';
import { distortEdsMap } from '../lib/synthetic/eds';
import { load, sample } from './_affine-generative';
import { AFFINE_KEEP_BLIND, AFFINE_KEEP_FRESH } from './_affine-held';

const b64 = (a: Float32Array | Uint16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

async function cache(which: string): Promise<void> {
  const list = which === 'blind' ? AFFINE_KEEP_BLIND : AFFINE_KEEP_FRESH;
  const dir = process.env.K_CACHE ?? `/tmp/petromap-affine-keep-${which}`;
  mkdirSync(dir, { recursive: true });
  for (const c of list) {
    const s = sample(c), m = distortEdsMap(s, c.d);
    const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, model: 'affine' });
    const slab = r.slab as SlabWithBelow, why = r.modelChoice?.reason ?? '';
    writeFileSync(join(dir, `${which}-s${c.seed}.json`), JSON.stringify({
      set: which, name: c.name, auto: why.match(/^affine: requested \((affine|similarity)/)?.[1] ?? '?', shape: s.volume.meta.shape,
      slab: { ...slab, data: b64(slab.data), below: b64(slab.below!) }, slabToVoxel: r.slabToVoxel, G: r.candidates!.similarity.edsToSlab, affine: r.edsToSlab,
      truthAffine: m.truthAffine, used: NaN, eds: { width: m.eds.width, height: m.eds.height, pixelSizeUm: m.eds.pixelSizeUm, labels: b64(m.eds.labels) },
    }));
    console.log(`${c.name} cached`);
  }
}

async function measure(dir: string, only = ''): Promise<void> {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json') && x.includes(only)).sort()) {
    const { st, slab, mov, mw, mh, err, T } = load(join(dir, f));
    // the registration's scoreOn (register-eds.ts); the synthetic volumes here are 2 um voxels
    const expected = expectedOverlap(slab, mov, mov.pixelUm / 2);
    const scoreOn: ScoreOn = (mask, ref) => poseScore(slab, mov, mask && ref ? scoreAffine(slab.data, slab.width, slab.height, mov, invertAffine2(ref), mask).overlap : expected, mask);
    const G = st.G, score = scoreOn();
    const pm = measurePatches(slab, mov, G);
    const F = patchF(pm.pts);
    const j = await judgeAffine(pm, G, scoreOn, mw, mh, { slabSize: [slab.width, slab.height] });
    const gain = Number(j.choice.reason.match(/whole-map gain (-?\d+\.\d+)/)?.[1]);
    const r4 = (x: number) => +x.toFixed(4);
    console.log(JSON.stringify({
      name: st.name, px: mw, autoInRun: st.auto, keep: j.keep, F: F === null ? null : r4(F), patches: pm.pts.length, gain, bar: r4(wholeGainBar(mw * mh)),
      gainSqrtN: r4(gain * Math.sqrt(mw * mh)), split: j.choice.heldOutGain?.map(r4), stretch: j.choice.affineStretch?.map(r4),
      truthGain: r4(score(T) - score(G)), errG: r4(err(G)), errRequestedAffine: r4(err(st.affine)),
    }));
  }
}

const [cmd, a, b] = process.argv.slice(2);
(cmd === 'cache' ? cache(a ?? 'fresh') : measure(a ?? '/tmp/petromap-affine-generative', b)).catch((e) => { console.error(e); process.exit(1); });
