/** Debian's native elastix CLI as the benchmark peer: writes the pair as .mha, runs it single-threaded, reads its transform back. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeAffine2, invertAffine2, type Affine2 } from '../lib/coords';
import { cropFixed, flipU, geometryOf, parameterMap, parseElastixTransform } from '../lib/registration/elastix-refine';

export const ELASTIX = '/usr/bin/elastix';
const PEER = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'elastix-run.sh');

/** CPU time (user + system, ms) of this process's finished children, from /proc (10 ms ticks); NaN elsewhere. */
export function childCpuMs(): number {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(')').pop()!.trim().split(' ');
    return (Number(f[13]) + Number(f[14])) * 10; // cutime, cstime (fields 16, 17), at 100 ticks/s
  } catch {
    return NaN;
  }
}

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
export async function nativeElastix(dir: string, slab: { data: Float32Array; width: number; height: number }, grey: Float32Array, mw: number, mh: number, init: Affine2 | null, scale: number, transform = 'EulerTransform') {
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
  const t0 = performance.now(), c0 = childCpuMs();
  execFileSync(PEER, [join(dir, 'fixed.mha'), join(dir, 'moving.mha'), join(dir, 'params.txt'), join(dir, 'out')]);
  const ms = performance.now() - t0, cpuMs = childCpuMs() - c0;
  const T = parseElastixTransform(parseParamFile(await readFile(join(dir, 'out', 'TransformParameters.0.txt'), 'utf8')));
  const P = composeAffine2(invertAffine2(T), g.P);
  return { edsToSlab: flipped ? composeAffine2(P, g.flip) : P, ms, cpuMs };
}
