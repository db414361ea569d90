/**
 * One mutant of the fuzzer (bench/fuzz.ts): which valid input, which of its files and which operators,
 * all drawn from an Rng seeded by (run seed, iteration) alone, so `--seed S --only i` reruns it.
 */
import { bitFlips, duplication, extremeAt, NIFTI_FIELDS, niftiField, pngField, tiffField, truncation, zipField } from './_fuzz-binary';
import { Rng, type Fmt, type Mutant, type Mutation, type SeedFile, type SeedInput } from './_fuzz-seeds';
import { csvRows, headerLines, jsonValues, xmlValues } from './_fuzz-text';

/** The seed of mutant `iteration` under run seed `seed` (a 32-bit mix of the two). */
function mutantSeed(seed: number, iteration: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(iteration + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

type Op = (src: Buffer, rng: Rng) => Mutation;
/** `fromSeed`: rebuilds the seed file from scratch, so it can only be the first step of a mutant */
type WeightedOp = { op: Op; w: number; fromSeed?: boolean };
function operatorsFor(f: SeedFile): WeightedOp[] {
  const generic: WeightedOp[] = [
    { op: bitFlips, w: 2 },
    { op: (b, r) => extremeAt(b, r), w: 2 },
    { op: truncation, w: 1.5 },
    { op: duplication, w: 1 },
  ];
  const special: Record<Fmt, WeightedOp[]> = {
    tiff: [{ op: tiffField, w: 5 }],
    nifti: [{ op: niftiField, w: 5 }, { op: (b, r) => extremeAt(b, r, NIFTI_FIELDS.map((x) => x.off)), w: 2 }],
    png: [{ op: pngField, w: 5 }],
    zip: [{ op: zipField, w: 5 }, ...(f.rebuild ? [{ op: (_b: Buffer, r: Rng) => f.rebuild!(r), w: 3, fromSeed: true }] : [])],
    header: [{ op: headerLines, w: 6 }],
    csv: [{ op: csvRows, w: 5 }],
    xml: [{ op: xmlValues, w: 5 }],
    json: [{ op: jsonValues, w: 6 }],
    raw: [],
  };
  return [...generic, ...special[f.fmt]];
}

function weighted<T extends { w: number }>(rng: Rng, xs: T[]): T {
  let r = rng.next() * xs.reduce((s, x) => s + x.w, 0);
  for (const x of xs) if ((r -= x.w) < 0) return x;
  return xs[xs.length - 1]!;
}

/** Mutant `iteration` of run seed `seed` (deterministic). */
export function makeMutant(seeds: SeedInput[], seed: number, iteration: number): Mutant {
  const rng = new Rng(mutantSeed(seed, iteration));
  const s = seeds[rng.int(seeds.length)]!;
  const candidates = s.files.filter((f) => f.weight > 0).map((f) => ({ f, w: f.weight }));
  const { f } = weighted(rng, candidates);
  let bytes = f.bytes;
  const descs: string[] = [];
  const n = rng.chance(0.75) ? 1 : 2 + rng.int(2);
  for (let k = 0; k < n; k++) {
    const ops = operatorsFor(f);
    const m = weighted(rng, k === 0 ? ops : ops.filter((o) => !o.fromSeed)).op(bytes, rng);
    bytes = m.bytes;
    descs.push(m.desc);
  }
  return {
    iteration,
    seedName: s.name,
    kind: s.kind,
    entry: s.entry,
    files: s.files.map((x) => ({ path: x.path, bytes: x === f ? bytes : x.bytes })),
    target: f.path,
    desc: descs.join(' + '),
  };
}
