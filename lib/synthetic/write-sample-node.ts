/**
 * Writes a synthetic sample as the files a user would import: volume.nrrd, eds-map.png,
 * eds-legend.csv, bse.png, plus the truth (truth.json, truth-labels.nrrd) for checking results.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from 'fast-png';
import type { MineralMap } from '../eds/types';
import { writeNrrd } from './nrrd-writer-node';
import type { SyntheticSample } from './types';

export const SAMPLE_FILES = {
  volume: 'volume.nrrd',
  edsMap: 'eds-map.png',
  legend: 'eds-legend.csv',
  bse: 'bse.png',
  truth: 'truth.json',
  truthLabels: 'truth-labels.nrrd',
} as const;

export async function writeSyntheticSample(dir: string, sample: SyntheticSample): Promise<typeof SAMPLE_FILES> {
  await mkdir(dir, { recursive: true });
  const { eds } = sample;
  await writeNrrd(join(dir, SAMPLE_FILES.volume), sample.volume);
  await writeNrrd(join(dir, SAMPLE_FILES.truthLabels), { meta: { ...sample.volume.meta, dtype: 'uint8', channels: ['truth'] }, data: sample.truthLabels });
  await atomicWrite(join(dir, SAMPLE_FILES.edsMap), encode({ width: eds.width, height: eds.height, data: mapRgb(eds), channels: 3, depth: 8 }));
  await atomicWrite(join(dir, SAMPLE_FILES.legend), legendCsv(eds));
  const bse = bse16(eds);
  await atomicWrite(join(dir, SAMPLE_FILES.bse), encode({ width: eds.width, height: eds.height, data: bse.data, channels: 1, depth: 16 }));
  const truth = { ...sample.truth, edsPixelUm: eds.pixelSizeUm, edsSize: [eds.width, eds.height], bseRange: bse.range, files: SAMPLE_FILES };
  await atomicWrite(join(dir, SAMPLE_FILES.truth), JSON.stringify(truth, null, 2) + '\n');
  return SAMPLE_FILES;
}

/** RGB image of the map; unclassified pixels are black. */
export function mapRgb(map: MineralMap): Uint8Array {
  const lut = new Map(map.legend.map((p) => [p.id, p.color]));
  const rgb = new Uint8Array(map.width * map.height * 3);
  for (let i = 0; i < map.labels.length; i++) {
    const c = lut.get(map.labels[i]);
    if (c) rgb.set(c, i * 3);
  }
  return rgb;
}

export function legendCsv(map: MineralMap): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return ['name,r,g,b', ...map.legend.map((p) => `${quote(p.name)},${p.color.join(',')}`)].join('\n') + '\n';
}

/** BSE companion stretched to 16 bits; the stretch is recorded so values can be recovered. */
function bse16(map: MineralMap): { data: Uint16Array; range: [number, number] } {
  const src = map.companions.find((c) => c.name === 'BSE')?.data ?? new Float32Array(map.width * map.height);
  let lo = Infinity, hi = -Infinity;
  for (const v of src) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const scale = hi > lo ? 65535 / (hi - lo) : 0;
  return { data: Uint16Array.from(src, (v) => Math.round((v - lo) * scale)), range: [lo, hi] };
}

async function atomicWrite(path: string, content: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}
