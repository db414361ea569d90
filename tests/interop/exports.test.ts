/**
 * Issue 16 §3: the exports open in tools the project did not write, with the same voxel at the
 * same place. A labelled volume with an anisotropic voxel size, an origin and marker voxels is
 * exported by lib/report and read back by Debian's python3-nibabel (NIfTI), python3-tifffile
 * (ImageJ TIFF), python3-zarr 2.x (OME-Zarr 0.4 / Zarr v2, also as the download's zip); both
 * OME-Zarr flavours are checked against the published OME-NGFF JSON schemas (python3-jsonschema)
 * and the spec's rules; CSV against Python's csv module with 'utf-8-sig'. ITK's own NRRD and NIfTI
 * readers (ITK-Wasm) must put a voxel of both exports at the same physical point.
 *
 * The Python modules are installed by .ci/run: a missing one fails these tests. PETROMAP_SKIP_PY=1
 * skips them (a machine without them).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImageNode } from '@itk-wasm/image-io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvFileText, modalCsv } from '../../lib/report/csv';
import { exportVolume } from '../../lib/report/export-node';
import { omeZarrV2Zip } from '../../lib/report/export-ome-zarr-v2-node';
import { writeStreamAtomic } from '../../lib/report/export-stream-node';
import type { Shape3, VolumeMeta } from '../../lib/volume/types';
import { writeDenseVolume, type ZarrVolumeStore } from '../../lib/volume/zarr-store-node';

const SCRIPT = fileURLToPath(new URL('./read_exports.py', import.meta.url));
const skip = process.env.PETROMAP_SKIP_PY === '1';

function py<T>(kind: string, path: string, extra?: unknown): T {
  const args = [SCRIPT, kind, path, ...(extra === undefined ? [] : [typeof extra === 'string' ? extra : JSON.stringify(extra)])];
  const out = execFileSync('/usr/bin/python3', args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  return JSON.parse(out) as T;
}

const sha = (a: Uint8Array) => createHash('sha256').update(a).digest('hex');

const SHAPE: Shape3 = [20, 70, 90];
const SPACING: [number, number, number] = [2.5, 1.25, 0.75];
const ORIGIN: [number, number, number] = [10, -20, 30];
/** marker voxels (z, y, x) and their values: an axis swapped or flipped moves them */
const PROBES: [number, number, number][] = [
  [0, 0, 0],
  [19, 69, 89],
  [3, 10, 70],
  [17, 60, 5],
];
const worldUm = ([z, y, x]: [number, number, number]) => [ORIGIN[0] + z * SPACING[0], ORIGIN[1] + y * SPACING[1], ORIGIN[2] + x * SPACING[2]];

describe.skipIf(skip)('exports read by independent readers (nibabel, tifffile, zarr-python 2, jsonschema)', () => {
  let tmp: string;
  let store: ZarrVolumeStore;
  let data: Uint8Array;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'petromap-interop-'));
    const [nz, ny, nx] = SHAPE;
    data = new Uint8Array(nz * ny * nx);
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[(z * ny + y) * nx + x] = 1 + ((3 * z + 2 * y + x) % 6);
    PROBES.forEach(([z, y, x], k) => (data[(z * ny + y) * nx + x] = 201 + k));
    const meta: VolumeMeta = { shape: SHAPE, spacingUm: SPACING, originUm: ORIGIN, dtype: 'uint8', channels: ['labels'] };
    store = await writeDenseVolume(join(tmp, 'labels.ome.zarr'), { meta, data }, { chunk: [8, 32, 32], downsample: 'mode' });
    expect(store.levels).toBe(2);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('NIfTI: nibabel finds the voxels, the voxel size in mm and each marker at its world position', async () => {
    const p = join(tmp, 'labels.nii');
    await exportVolume(store, 'nifti', p);
    const r = py<{ shape: number[]; dtype: string; affine: number[][]; zooms: number[]; units: string[]; sform_code: number; sha256_zyx: string; probes: { value: number; world_mm: number[] }[] }>('nifti', p, PROBES);
    expect(r.shape).toEqual([90, 70, 20]); // x, y, z
    expect(r.dtype).toBe('uint8');
    expect(r.units[0]).toBe('mm');
    expect(r.sform_code).toBeGreaterThan(0);
    r.zooms.forEach((z, i) => expect(z).toBeCloseTo([0.75, 1.25, 2.5][i]! / 1000, 9));
    expect(r.sha256_zyx).toBe(sha(data));
    PROBES.forEach((pz, k) => {
      expect(r.probes[k]!.value).toBe(201 + k);
      const [wz, wy, wx] = worldUm(pz);
      [wx, wy, wz].forEach((w, a) => expect(r.probes[k]!.world_mm[a]! * 1000).toBeCloseTo(w!, 3));
    });
  });

  it('ImageJ TIFF: tifffile reads the stack, ImageJ spacing=, origin and the resolution tags (µm)', async () => {
    const p = join(tmp, 'labels.tif');
    await exportVolume(store, 'tiff', p);
    const r = py<{ shape: number[]; dtype: string; is_imagej: boolean; imagej: Record<string, unknown>; x_resolution: number; y_resolution: number; sha256_zyx: string; probes: { value: number }[] }>('tiff', p, PROBES);
    expect(r.shape).toEqual(SHAPE);
    expect(r.dtype).toBe('uint8');
    expect(r.is_imagej).toBe(true);
    expect(r.imagej.spacing).toBeCloseTo(SPACING[0], 9);
    expect(r.imagej.unit).toBe('micron');
    expect(r.imagej.slices).toBe(SHAPE[0]);
    expect(1 / r.x_resolution).toBeCloseTo(SPACING[2], 5);
    expect(1 / r.y_resolution).toBeCloseTo(SPACING[1], 5);
    expect(r.sha256_zyx).toBe(sha(data));
    expect(r.probes.map((q) => q.value)).toEqual([201, 202, 203, 204]);
    // ImageJ's calibration: µm = (index - origin) * spacing, origin in voxels
    const origin = [r.imagej.zorigin, r.imagej.yorigin, r.imagej.xorigin] as number[];
    const spacing = [r.imagej.spacing as number, 1 / r.y_resolution, 1 / r.x_resolution];
    for (const pz of PROBES) pz.forEach((i, a) => expect((i - origin[a]!) * spacing[a]!).toBeCloseTo(worldUm(pz)[a]!, 4));
  });

  interface Zarr2Read {
    attrs: { multiscales: { version: string; axes: { name: string; type: string; unit?: string }[]; datasets: { path: string; coordinateTransformations: { type: string; scale?: number[]; translation?: number[] }[] }[] }[] };
    levels: { path: string; shape: number[]; chunks: number[]; dtype: string; compressor: string | null; sha256: string }[];
    probes: { value: number }[];
  }

  async function expectV2Store(r: Zarr2Read) {
    const ms = r.attrs.multiscales[0]!;
    expect(ms.version).toBe('0.4');
    expect(ms.axes.map((a) => `${a.name}:${a.type}:${a.unit ?? ''}`)).toEqual(['c:channel:', 'z:space:micrometer', 'y:space:micrometer', 'x:space:micrometer']);
    expect(r.levels.map((l) => l.shape)).toEqual([[1, ...SHAPE], [1, ...store.levelShape(1)]]);
    expect(r.levels[0]!.chunks).toEqual([1, 8, 32, 32]);
    expect(r.levels.every((l) => l.dtype === 'uint8' && l.compressor === 'zlib')).toBe(true);
    expect(r.levels[0]!.sha256).toBe(sha(data));
    const l1 = (await store.readBlock({ start: [0, 0, 0], shape: store.levelShape(1) }, { level: 1 })) as Uint8Array;
    expect(r.levels[1]!.sha256).toBe(sha(l1));
    expect(r.probes.map((q) => q.value)).toEqual([201, 202, 203, 204]);
    // the same marker lands at the same world position as in the NIfTI (µm = scale * index + translation)
    const [scale, translation] = ms.datasets[0]!.coordinateTransformations;
    expect(scale!.scale).toEqual([1, ...SPACING]);
    expect(translation!.translation).toEqual([0, ...ORIGIN]);
    for (const pz of PROBES) expect(pz.map((i, a) => scale!.scale![a + 1]! * i + translation!.translation![a + 1]!)).toEqual(worldUm(pz));
    // level 1 halves y and x: its voxel centres sit half a level-0 voxel in
    const s1 = ms.datasets[1]!.coordinateTransformations;
    expect(s1[0]!.scale).toEqual([1, SPACING[0] * 2, SPACING[1] * 2, SPACING[2] * 2]);
  }

  it('OME-Zarr 0.4 / Zarr v2 export: zarr-python 2 reads both levels, metadata valid against the 0.4 schema and rules', async () => {
    const p = join(tmp, 'labels.v2.ome.zarr');
    const res = await exportVolume(store, 'ome-zarr-v2', p);
    expect(res.bytes).toBeGreaterThan(0);
    await expectV2Store(py<Zarr2Read>('zarr2', p, PROBES));
    expect(py<{ errors: string[] }>('ngff', p, '0.4').errors).toEqual([]);
  });

  it('OME-Zarr v2 of a two-channel float32 store (like the class probabilities): both channels, valid metadata', async () => {
    const shape: Shape3 = [3, 5, 7];
    const n = 3 * 5 * 7;
    const channels = [new Float32Array(n).map((_, i) => i / 7), new Float32Array(n).map((_, i) => -i * 1.5)];
    const meta: VolumeMeta = { shape, spacingUm: SPACING, originUm: ORIGIN, dtype: 'float32', channels: ['quartz', 'feldspar'] };
    const two = await writeDenseVolume(join(tmp, 'two.ome.zarr'), { meta, channels });
    const p = join(tmp, 'two.v2.ome.zarr');
    await exportVolume(two, 'ome-zarr-v2', p);
    const r = py<Zarr2Read>('zarr2', p, []);
    expect(r.levels[0]!.shape).toEqual([1, ...shape]); // exportVolume exports one channel (default 0)
    expect(r.levels[0]!.dtype).toBe('float32');
    expect(r.levels[0]!.sha256).toBe(sha(new Uint8Array(channels[0]!.buffer)));
    const zipPath = join(tmp, 'two.zip');
    await writeStreamAtomic(omeZarrV2Zip(two, 'two.ome.zarr'), zipPath); // the download: every channel
    const z = py<Zarr2Read>('zarr2', `${zipPath}::two.ome.zarr`, []);
    expect(z.levels[0]!.shape).toEqual([2, ...shape]);
    expect(z.levels[0]!.sha256).toBe(sha(new Uint8Array(Buffer.concat(channels.map((c) => Buffer.from(c.buffer))))));
    expect(py<{ errors: string[] }>('ngff', p, '0.4').errors).toEqual([]);
  });

  it('the web download of the v2 store (a zip made as it is sent) opens with zarr.ZipStore', async () => {
    const p = join(tmp, 'labels.zarr-v2.ome.zarr.zip');
    await writeStreamAtomic(omeZarrV2Zip(store, 'labels.ome.zarr'), p);
    await expectV2Store(py<Zarr2Read>('zarr2', `${p}::labels.ome.zarr`, PROBES));
  });

  it('the Zarr v3 store and its export carry valid OME-Zarr 0.5 metadata (schema and rules)', async () => {
    expect(py<{ errors: string[] }>('ngff', store.path, '0.5').errors).toEqual([]);
    const p = join(tmp, 'copy.ome.zarr');
    await exportVolume(store, 'ome-zarr', p);
    expect(py<{ errors: string[] }>('ngff', p, '0.5').errors).toEqual([]);
  });

  it('the validator is not a rubber stamp: broken 0.4 metadata is refused', async () => {
    const p = join(tmp, 'broken.ome.zarr');
    mkdirSync(join(p, '0'), { recursive: true });
    writeFileSync(join(p, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
    writeFileSync(join(p, '0', '.zarray'), JSON.stringify({ zarr_format: 2, shape: [4, 4, 4], chunks: [4, 4, 4], dtype: '|u1', compressor: null, fill_value: 0, order: 'C', filters: null }));
    const axes = [{ name: 'x', type: 'space', unit: 'micron' }, { name: 'c', type: 'channel' }, { name: 'y', type: 'space', unit: 'micrometer' }];
    const cts = [{ type: 'translation', translation: [0, 0, 0] }, { type: 'scale', scale: [1, 1] }];
    writeFileSync(join(p, '.zattrs'), JSON.stringify({ multiscales: [{ version: '0.4', name: 'b', type: 'x', metadata: {}, axes, datasets: [{ path: '0', coordinateTransformations: cts }] }] }));
    const errors = py<{ errors: string[] }>('ngff', p, '0.4').errors.join('\n');
    expect(errors).toMatch(/ordered time, channel, space/);
    expect(errors).toMatch(/unit 'micron', not a UDUNITS-2 length/);
    expect(errors).toMatch(/one scale, optionally followed by one translation/);
    expect(errors).toMatch(/scale has 2 values for 3 axes/);
    expect(errors).toMatch(/'\/' dimension separator/);
  });

  it('CSV: UTF-8 with a byte-order mark; Python reads µ and accented mineral names intact', () => {
    const names = ['Albite–anorthite', 'Hématite', 'Quartz (≤ 5 µm)', 'Çalcite, "impure"'];
    const csv = modalCsv({ rows: names.map((name, i) => ({ class: i + 1, name, voxels: 10 * (i + 1), volumePercent: 10 * (i + 1) })), totalVoxels: 100 } as unknown as Parameters<typeof modalCsv>[0]);
    const p = join(tmp, 'modal.csv');
    writeFileSync(p, csvFileText(csv));
    const r = py<{ first_bytes: string; rows: string[][] }>('csv', p);
    expect(r.first_bytes).toBe('efbbbf');
    expect(r.rows[0]).toEqual(['class', 'name', 'voxels', 'volume_percent']);
    expect(r.rows.slice(1).map((row) => row[1])).toEqual(names);
    expect(readFileSync(p).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });
});

describe('NRRD and NIfTI exports put a voxel at the same point in ITK (ITK-Wasm readers)', () => {
  it('same origin, direction and spacing up to the unit (NRRD µm, NIfTI mm)', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'petromap-itk-'));
    try {
      const data = new Uint8Array(4 * 5 * 6).map((_, i) => i);
      const meta: VolumeMeta = { shape: [4, 5, 6], spacingUm: SPACING, originUm: ORIGIN, dtype: 'uint8', channels: ['labels'] };
      const store = await writeDenseVolume(join(tmp, 'v.ome.zarr'), { meta, data });
      await exportVolume(store, 'nrrd', join(tmp, 'v.nrrd'));
      await exportVolume(store, 'nifti', join(tmp, 'v.nii'));
      const nrrd = await readImageNode(join(tmp, 'v.nrrd'));
      const nii = await readImageNode(join(tmp, 'v.nii'));
      // physical point of voxel index (i, j, k) = origin + direction · (spacing ∘ index), ITK's LPS frame
      const point = (img: typeof nrrd, idx: number[], scale: number) =>
        [0, 1, 2].map((r) => (img.origin[r]! + [0, 1, 2].reduce((s, c) => s + Number(img.direction[r * 3 + c]!) * img.spacing[c]! * idx[c]!, 0)) * scale);
      for (const idx of [[0, 0, 0], [5, 4, 3], [2, 1, 0]]) {
        const a = point(nrrd, idx, 1);
        const b = point(nii, idx, 1000);
        a.forEach((v, r) => expect(b[r]!).toBeCloseTo(v, 2));
      }
      expect(Array.from(nrrd.data as Uint8Array)).toEqual(Array.from(data));
      expect(Array.from(nii.data as Uint8Array)).toEqual(Array.from(data));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
