/**
 * `npm run bench -- register [rigid cases, default 2] [rigid-only]`: petromap's EDS -> XRM registration
 * against Debian's native elastix CLI (the peer) on the same image pairs from synthetic sandstones.
 * Then the issue-19 table: distorted (shear, stretch, partial coverage) and stitched maps, petromap's
 * automatic model choice beside native elastix AffineTransform started from petromap's similarity.
 *   - petromap: full automatic pipeline (surface, slab, coarse search, refinement), in-process
 *   - petromap elastix (ITK-Wasm) and native elastix from the same initial pose (petromap's coarse)
 *   - native elastix from no initial pose (only the pixel sizes as spacing)
 * Errors are the acceptance measure (mean / max voxel distance of EDS pixel centres to the truth).
 * Both elastix runs use EulerTransform (rigid; the scale comes from the pixel sizes) because Debian's
 * elastix 5.0.1 has no SimilarityTransform, and the same parameter map otherwise.
 * The peer runs single-threaded (-threads 1), like the wasm build. Skipped if /usr/bin/elastix is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyAffine2to3, composeAffine2, composeAffine2to3, invertAffine2, type Affine2 } from '../lib/coords';
import { coarseAlign } from '../lib/registration/coarse-align';
import { detectSurface } from '../lib/registration/detect-surface';
import { cropFixed, flipU, geometryOf, parameterMap, parseElastixTransform, refineWithElastix } from '../lib/registration/elastix-refine';
import { extractSlab } from '../lib/registration/extract-slab';
import { movingImage } from '../lib/registration/moving-image';
import { registerEdsToVolume } from '../lib/registration/register-eds';
import { registrationErrorAt } from '../lib/registration/quality';
import { edsPointToVoxel } from '../lib/registration/refine-fields';
import { generateSandstone, randomAcquisition, REGISTRATION_RANGES } from '../lib/synthetic';
import { distortEdsMap, type EdsDistortion } from '../lib/synthetic/eds';
import { registrationError } from '../tests/lib/registration/helpers';

const ELASTIX = '/usr/bin/elastix';
const PEER = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'elastix-run.sh');

/** MetaImage (.mha) writer; TransformMatrix lists the axis direction vectors (columns) in turn. */
async function writeMha(path: string, data: Float32Array, size: number[], origin: number[], spacing: number[], dir: number[]) {
  const header = [
    'ObjectType = Image', 'NDims = 2', 'BinaryData = True', 'BinaryDataByteOrderMSB = False', 'CompressedData = False',
    `TransformMatrix = ${dir[0]} ${dir[2]} ${dir[1]} ${dir[3]}`, `Offset = ${origin.join(' ')}`, `ElementSpacing = ${spacing.join(' ')}`,
    `DimSize = ${size.join(' ')}`, 'ElementType = MET_FLOAT', 'ElementDataFile = LOCAL',
  ].join('\n') + '\n';
  await writeFile(path, Buffer.concat([Buffer.from(header), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function paramFile(map: Record<string, string[]>): string {
  const val = (v: string) => (/^-?\d+(\.\d+)?(e-?\d+)?$/.test(v) ? v : `"${v}"`);
  return Object.entries(map).map(([k, vs]) => `(${k} ${vs.map(val).join(' ')})`).join('\n') + '\n';
}

function parseParamFile(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of text.matchAll(/^\((\w+)\s+(.*)\)\s*$/gm)) out[m[1]] = [...m[2].matchAll(/"([^"]*)"|(\S+)/g)].map((x) => x[1] ?? x[2]);
  return out;
}

/** Native elastix (`transform`: EulerTransform or AffineTransform) from the pose `init` (or from the bare pixel-size scale when init is null). */
async function nativeElastix(dir: string, slab: { data: Float32Array; width: number; height: number }, grey: Float32Array, mw: number, mh: number, init: Affine2 | null, scale: number, transform = 'EulerTransform') {
  const images = { fixed: slab.data, fixedWidth: slab.width, fixedHeight: slab.height, moving: grey, movingWidth: mw, movingHeight: mh };
  const pose: Affine2 = init ?? [scale, 0, 0, 0, scale, 0];
  const crop = init ? cropFixed(images, init) : cropFixed(images, [1, 0, 0, 0, 1, 0], 10_000);
  const flipped = pose[0] * pose[4] - pose[1] * pose[3] < 0;
  const g = geometryOf(pose, flipped, mw);
  await writeMha(join(dir, 'fixed.mha'), crop.data, [crop.w, crop.h], crop.origin, [1, 1], [1, 0, 0, 1]);
  await writeMha(join(dir, 'moving.mha'), flipped ? flipU(grey, mw, mh) : grey, [mw, mh], g.origin, g.spacing, g.direction);
  const pm = await parameterMap(transform, {});
  delete pm.RandomSeed; // not a parameter of elastix 5.0.1's samplers
  await writeFile(join(dir, 'params.txt'), paramFile(pm));
  const t0 = performance.now();
  execFileSync(PEER, [join(dir, 'fixed.mha'), join(dir, 'moving.mha'), join(dir, 'params.txt'), join(dir, 'out')]);
  const ms = performance.now() - t0;
  const T = parseElastixTransform(parseParamFile(await readFile(join(dir, 'out', 'TransformParameters.0.txt'), 'utf8')));
  const P = composeAffine2(invertAffine2(T), g.P);
  return { edsToSlab: flipped ? composeAffine2(P, g.flip) : P, ms };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (e: { mean: number; max: number }) => `${e.mean.toFixed(2)}/${e.max.toFixed(2)}`;

/** Issue 19 cases: the acquisition follows from the seed as in tests/lib/registration/register-models.test.ts. */
const DISTORTED: { name: string; seed: number; ratio: number; d: EdsDistortion; fields?: boolean }[] = [
  { name: 'rigid, 60 % coverage', seed: 21, ratio: 1.2, d: { coverage: 0.6 } },
  { name: 'rigid, 40 % coverage', seed: 11, ratio: 1, d: { coverage: 0.4 } },
  { name: '2 % stretch u, 70 %', seed: 12, ratio: 1, d: { coverage: 0.7, stretch: [0.02, 0] } },
  { name: '2 % shear, 80 %', seed: 23, ratio: 0.8, d: { coverage: 0.8, shear: -0.02 } },
  { name: '3 % shear, 100 %', seed: 13, ratio: 0.7, d: { coverage: 1, shear: 0.03 } },
  { name: '3 % shear, 40 %', seed: 15, ratio: 1, d: { coverage: 0.4, shear: 0.03 } },
  { name: '1 % shear, 40 %', seed: 11, ratio: 1, d: { coverage: 0.4, shear: 0.01 } },
  { name: '+1/-1 % stretch, 50 %', seed: 22, ratio: 1, d: { coverage: 0.5, stretch: [0.01, -0.01] } },
  { name: 'mosaic 3x2, <=3 px, 90 %', seed: 8, ratio: 0.7, d: { coverage: 0.9, mosaic: { cols: 3, rows: 2, maxShiftPx: 3 } }, fields: true },
  { name: 'mosaic 3x3, <=3 px, 80 %', seed: 6, ratio: 0.5, d: { coverage: 0.8, mosaic: { cols: 3, rows: 3, maxShiftPx: 3 } }, fields: true },
];

/** petromap auto (model kept, error, time) beside native elastix AffineTransform started from petromap's similarity. */
async function distortedTable(peer: boolean, dir: string) {
  console.log('\nissue 19: distorted and stitched maps (24 x 128 x 128, error mean/max voxel against the per-pixel truth)');
  console.log('case                          petromap auto: model, err, ms   | similarity err | native elastix affine from petromap similarity: err, ms');
  const ratio: number[] = [];
  for (const c of DISTORTED) {
    const s = generateSandstone({
      shape: [24, 128, 128], voxelUm: 2, seed: c.seed, surfaceDepthVox: 4 + (c.seed % 4), tiltDeg: 1 + (c.seed % 3), tiltAzimuthDeg: 37 * c.seed,
      eds: { rotationDeg: 53 * c.seed, pixelUm: 2 * c.ratio, mirrored: c.seed % 2 === 0, offsetVox: { x: ((c.seed * 7) % 11) - 5, y: ((c.seed * 5) % 9) - 4 } },
    });
    const m = distortEdsMap(s, c.d);
    const fields = c.fields ? m.fields!.map(({ shiftPx: _s, ...f }) => f) : undefined;
    const t0 = performance.now();
    const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, fields });
    const ms = performance.now() - t0;
    const errOf = (at: (u: number, v: number) => [number, number, number]) => registrationErrorAt(at, m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
    const affineErr = (a: Affine2) => errOf((u, v) => applyAffine2to3(composeAffine2to3(r.slabToVoxel, a), u, v));
    const e = errOf((u, v) => edsPointToVoxel(r, u, v));
    const sim = r.candidates?.similarity.edsToSlab ?? r.edsToSlab;
    let line = `${c.name.padEnd(29)} ${(r.model ?? '?').padEnd(10)} ${fmt(e)}  ${ms.toFixed(0).padStart(6)} | ${fmt(affineErr(sim))}      |`;
    if (peer) {
      const mov = movingImage(m.eds);
      const nat = await nativeElastix(await mkdtemp(join(dir, 'a')), r.slab, mov.grey, mov.width, mov.height, sim, 0, 'AffineTransform').catch(() => null);
      line += nat ? ` ${fmt(affineErr(nat.edsToSlab))}  ${nat.ms.toFixed(0)}` : ' failed';
      if (nat) ratio.push(ms / nat.ms);
    }
    console.log(line);
  }
  if (ratio.length) console.log(`median petromap auto time / native elastix affine time = ${median(ratio).toFixed(2)} (petromap includes the surface-slab search from scratch)`);
}

export async function run(args: string[]): Promise<void> {
  const cases = Number(args[0] ?? 2);
  const peer = existsSync(ELASTIX);
  if (!peer) console.log(`(${ELASTIX} missing: the native elastix peer is skipped; apt-get install elastix)`);
  const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-register-'));
  const rows: Record<string, number[]> = { total: [], wasm: [], native: [] };
  console.log('case  petromap(total ms, err mean/max)  itk-wasm elastix from coarse(ms, err)  native elastix from coarse(ms, err)  native from none(err)');
  try {
    for (let seed = 1; seed <= cases; seed++) {
      const input = randomAcquisition(seed, { shape: [24, 192, 192], voxelUm: 2 }, { ...REGISTRATION_RANGES, depthVox: [2, 10] });
      const s = generateSandstone(input);
      const err = (m: Affine2, slabToVoxel: Parameters<typeof composeAffine2to3>[0]) =>
        registrationError(composeAffine2to3(slabToVoxel, m), s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape);
      let t0 = performance.now();
      const reg = await registerEdsToVolume(s.volume, s.eds, { inWorker: false });
      const total = performance.now() - t0;
      const surface = await detectSurface(s.volume);
      const slab = await extractSlab(s.volume, surface);
      const mov = movingImage(s.eds);
      const coarse = await coarseAlign(slab, mov, { voxelUm: 2 });
      const images = { fixed: slab.data, fixedWidth: slab.width, fixedHeight: slab.height, moving: mov.grey, movingWidth: mov.width, movingHeight: mov.height };
      t0 = performance.now();
      const wasm = await refineWithElastix(images, coarse.edsToSlab, { model: 'rigid' });
      const wasmMs = performance.now() - t0;
      let line = `${seed}     ${total.toFixed(0)} ms, ${fmt(err(reg.edsToSlab, reg.slabToVoxel))}          ${wasmMs.toFixed(0)} ms, ${fmt(err(wasm, slab.slabToVoxel))}`;
      rows.total.push(total); rows.wasm.push(wasmMs);
      if (peer) {
        const d1 = await mkdtemp(join(dir, 'c')), d2 = await mkdtemp(join(dir, 'n'));
        const nat = await nativeElastix(d1, slab, mov.grey, mov.width, mov.height, coarse.edsToSlab, coarse.scale);
        const none = await nativeElastix(d2, slab, mov.grey, mov.width, mov.height, null, coarse.scale).catch(() => null);
        rows.native.push(nat.ms);
        line += `          ${nat.ms.toFixed(0)} ms, ${fmt(err(nat.edsToSlab, slab.slabToVoxel))}          ${none ? fmt(err(none.edsToSlab, slab.slabToVoxel)) : 'failed'}`;
      }
      console.log(line);
    }
    if (cases > 0) {
      console.log(`median petromap total ${median(rows.total).toFixed(0)} ms; itk-wasm elastix ${median(rows.wasm).toFixed(0)} ms` +
        (peer ? `; native elastix ${median(rows.native).toFixed(0)} ms; itk-wasm / native = ${(median(rows.wasm) / median(rows.native)).toFixed(2)}` +
          `; petromap total / native elastix = ${(median(rows.total) / median(rows.native)).toFixed(2)}` : ''));
    }
    if (args[1] !== 'rigid-only') await distortedTable(peer, dir);
  } finally {
    if (!process.env.KEEP) await rm(dir, { recursive: true, force: true });
  }
}
