/**
 * Node-only readers for the register CLI and the benchmark, until lib/volume and lib/eds ship
 * their own: a volume file ITK reads (NRRD, MetaImage, NIfTI, TIFF) into a DenseVolume, and an
 * RGB mineral-map PNG plus its legend CSV (name,r,g,b; black = unclassified) into a MineralMap.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { MineralMap, MineralPhase } from '../eds/types';
import { invalidInput, notFound } from '../errors';
import type { DenseVolume, DType } from '../volume/types';

export async function readVolumeFileNode(path: string): Promise<DenseVolume> {
  const st = await stat(path).catch(() => null);
  if (!st) throw notFound(`Volume ${path} does not exist.`);
  if (st.isDirectory()) {
    for (const name of ['volume.nrrd', 'volume.mha', 'volume.nii', 'volume.tif']) {
      if (await stat(join(path, name)).catch(() => null)) return readVolumeFileNode(join(path, name));
    }
    throw invalidInput(`Volume folder ${path} holds no volume.nrrd / .mha / .nii / .tif.`);
  }
  const { readImageNode } = await import('@itk-wasm/image-io');
  const img = await readImageNode(path);
  if (img.imageType.dimension !== 3 || img.imageType.components !== 1) {
    throw invalidInput(`Volume ${basename(path)} must be a 3D single-channel image (got ${img.imageType.dimension}D, ${img.imageType.components} components).`);
  }
  const [nx, ny, nz] = img.size;
  const data = img.data;
  const dtype: DType = data instanceof Uint8Array ? 'uint8' : data instanceof Uint16Array ? 'uint16' : 'float32';
  const arr = dtype === 'float32' && !(data instanceof Float32Array) ? Float32Array.from(data as ArrayLike<number>) : data;
  return {
    meta: {
      shape: [nz, ny, nx],
      spacingUm: [img.spacing[2], img.spacing[1], img.spacing[0]],
      originUm: [img.origin[2], img.origin[1], img.origin[0]],
      dtype,
      channels: [basename(path)],
    },
    data: arr as DenseVolume['data'],
  };
}

function parseLegend(csv: string, source: string): MineralPhase[] {
  const rows = csv.trim().split(/\r?\n/).slice(1);
  return rows.map((line, i) => {
    const m = line.match(/^("(?:[^"]|"")*"|[^,]*),(\d+),(\d+),(\d+)\s*$/);
    if (!m) throw invalidInput(`Legend ${source}, line ${i + 2}: expected name,r,g,b but got "${line}".`);
    const name = m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1];
    return { id: i + 1, name, color: [Number(m[2]), Number(m[3]), Number(m[4])] as [number, number, number] };
  });
}

export async function readRgbMineralMapNode(pngPath: string, legendPath: string, pixelSizeUm: number): Promise<MineralMap> {
  if (!(pixelSizeUm > 0)) throw invalidInput(`EDS map ${basename(pngPath)}: give its pixel size in µm (--pixel-um).`);
  const { decode } = await import('fast-png');
  const png = decode(await readFile(pngPath));
  const legend = parseLegend(await readFile(legendPath, 'utf8'), basename(legendPath));
  const key = (r: number, g: number, b: number) => (r << 16) | (g << 8) | b;
  const lut = new Map(legend.map((p) => [key(...p.color), p.id]));
  const ch = png.channels, n = png.width * png.height;
  const labels = new Uint16Array(n);
  let unknown = 0;
  for (let i = 0; i < n; i++) {
    const k = key(png.data[i * ch], png.data[i * ch + 1], png.data[i * ch + 2]);
    const id = lut.get(k);
    if (id === undefined && k !== 0) unknown++;
    labels[i] = id ?? 0;
  }
  if (unknown > 0.05 * n) throw invalidInput(`EDS map ${basename(pngPath)}: ${unknown} pixels have colours not in ${basename(legendPath)}.`);
  return { width: png.width, height: png.height, pixelSizeUm, labels, legend, companions: [], source: basename(pngPath) };
}
