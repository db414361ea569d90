/**
 * What the stored-probability benches (prob-smooth, auto-context) share: the phantom options
 * (`--shape z,y,x`..., `--style a|b`, `--seeds`) and one phantom written as a volume store with its
 * EDS class map and the default classifier feature set.
 */
import { writeDenseVolume } from '../lib/volume/zarr-store-node';
import { join } from 'node:path';
import { classifierFeatureSet } from '../lib/classify/feature-sets';
import type { FeatureSet } from '../lib/features/types';
import { classMapFromNames, type ClassMap } from '../lib/registration/transfer-labels';
import { generateSandstone } from '../lib/synthetic';
import { generateStyleB } from '../lib/synthetic/style-b/generate';
import type { Shape3 } from '../lib/volume/types';

export interface PhantomArgs {
  shapes: Shape3[];
  style: 'a' | 'b';
  seeds: number[];
}

/** Reads --shape (repeatable; default 96,160,160), --style and --seed(s); calls `other(flag, next)` for the rest (it returns true when it took `next`). */
export function phantomArgs(argv: string[], other: (flag: string, next: () => string) => void = () => {}): PhantomArgs {
  const a: PhantomArgs = { shapes: [], style: 'a', seeds: [11] };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const next = () => argv[++i]!;
    if (f === '--shape') a.shapes.push(next().split(',').map(Number) as Shape3);
    else if (f === '--style') a.style = next() === 'b' ? 'b' : 'a';
    else if (f === '--seeds' || f === '--seed') a.seeds = next().split(',').map(Number);
    else other(f, next);
  }
  if (!a.shapes.length) a.shapes.push([96, 160, 160]);
  return a;
}

/** One phantom of `style` written to `dir`/volume.ome.zarr, with its EDS class map and the default feature set. */
export async function writePhantom(dir: string, style: 'a' | 'b', shape: Shape3, seed: number) {
  const sample = style === 'b' ? generateStyleB({ shape, seed }) : generateSandstone({ shape, seed });
  const volumePath = join(dir, 'volume.ome.zarr');
  await writeDenseVolume(volumePath, sample.volume);
  const classMap: ClassMap = classMapFromNames(sample.eds.legend, sample.truth.mineralToClass);
  const set: FeatureSet = classifierFeatureSet(sample.volume.meta.spacingUm, {});
  return { sample, volumePath, classMap, set };
}
