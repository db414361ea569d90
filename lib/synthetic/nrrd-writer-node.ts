/**
 * Minimal NRRD writer (raw encoding, little endian) for uint8/uint16/float32 volumes. Enough for
 * ITK, 3D Slicer, Fiji and our own importer; keeps the synthetic sample free of extra dependencies.
 */
import { rename, writeFile } from 'node:fs/promises';
import type { DenseVolume } from '../volume/types';

const NRRD_TYPE = { uint8: 'uint8', uint16: 'uint16', float32: 'float' } as const;

/** NRRD header text; NRRD lists axes fastest first, so (z, y, x) becomes x y z. */
export function formatNrrdHeader(vol: DenseVolume): string {
  const { shape, spacingUm, originUm, dtype } = vol.meta;
  const [sz, sy, sx] = spacingUm;
  return [
    'NRRD0004',
    '# written by petromap (synthetic sandstone); units are micrometres',
    `type: ${NRRD_TYPE[dtype]}`,
    'dimension: 3',
    'space dimension: 3',
    `sizes: ${shape[2]} ${shape[1]} ${shape[0]}`,
    `space directions: (${sx},0,0) (0,${sy},0) (0,0,${sz})`,
    `space origin: (${originUm[2]},${originUm[1]},${originUm[0]})`,
    'space units: "microns" "microns" "microns"',
    'kinds: domain domain domain',
    'endian: little',
    'encoding: raw',
    '',
    '',
  ].join('\n');
}

/** Writes `path` via a temporary name so a failure leaves any earlier file intact. */
export async function writeNrrd(path: string, vol: DenseVolume): Promise<void> {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('writeNrrd: big-endian hosts are not supported');
  const header = Buffer.from(formatNrrdHeader(vol), 'latin1');
  const body = Buffer.from(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, Buffer.concat([header, body]));
  await rename(tmp, path);
}
