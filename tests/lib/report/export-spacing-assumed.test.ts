/**
 * A scan whose file gave no voxel size imports at an assumed 1 µm (the store's spacingAssumed). Its
 * exports still write that size, but every format says it was assumed, where the format allows: NRRD
 * a `#` line, `content:` and a key/value; NIfTI `descrip` and xyzt_units unknown; the ImageJ TIFF
 * unit "pixel" and a `petromap=` line; OME-Zarr 0.4 `petromap.spacingAssumed` (v3 stores already had
 * it). `petromap --export` names the files on stderr and in its JSON; the web download says it in a
 * header. A scan whose size was read exports as before. Read back by ITK-Wasm, and (unless
 * PETROMAP_SKIP_PY=1) nibabel, tifffile and zarr-python 2, as the interop test reads the exports.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImageNode } from '@itk-wasm/image-io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportLabels } from '../../../lib/cli/export-labels';
import { exportVolume } from '../../../lib/report/export-node';
import { ASSUMED_SPACING_NOTE, NIFTI_VOX_OFFSET } from '../../../lib/report/volume-headers';
import type { Shape3 } from '../../../lib/volume/types';
import { createVolume, openVolume } from '../../../lib/volume/zarr-store-node';

const SCRIPT = fileURLToPath(new URL('../../interop/read_exports.py', import.meta.url));
const skipPy = process.env.PETROMAP_SKIP_PY === '1';
const py = <T,>(kind: string, path: string, extra?: unknown): T =>
  JSON.parse(execFileSync('/usr/bin/python3', [SCRIPT, kind, path, ...(extra === undefined ? [] : [typeof extra === 'string' ? extra : JSON.stringify(extra)])], { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } })) as T;

const shape: Shape3 = [4, 6, 8];
const data = Uint8Array.from({ length: 4 * 6 * 8 }, (_, i) => 1 + (i % 5));
let tmp: string;

async function labels(name: string, spacingAssumed: boolean) {
  const p = join(tmp, name, 'prediction', 'labels.ome.zarr');
  const s = await createVolume(p, { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels: ['label'] }, { chunk: [4, 6, 8], downsample: 'mode', spacingAssumed });
  await s.writeBlock({ start: [0, 0, 0], shape }, data);
  return openVolume(p);
}

/** The NRRD header text (up to the blank line). */
const nrrdHead = (p: string) => readFileSync(p, 'latin1').split('\n\n')[0]!;
/** TIFF ImageDescription of the first page: the text between "ImageJ=" and its NUL. */
const imageJ = (p: string) => {
  const t = readFileSync(p, 'latin1');
  const i = t.indexOf('ImageJ=');
  return t.slice(i, t.indexOf('\0', i));
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'petromap-export-assumed-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('exports of a scan whose voxel size was assumed say so in each file', () => {
  it('NRRD, NIfTI, TIFF, OME-Zarr 0.4 headers mark it; the voxels and the 1 µm geometry are unchanged; a measured size is not marked', async () => {
    for (const assumed of [true, false]) {
      const store = await labels(assumed ? 'a' : 'k', assumed);
      const out = (f: string) => join(tmp, assumed ? 'a' : 'k', f);
      const results = [await exportVolume(store, 'nrrd', out('labels.nrrd')), await exportVolume(store, 'nifti', out('labels.nii')), await exportVolume(store, 'tiff', out('labels.tif')), await exportVolume(store, 'ome-zarr-v2', out('labels.v2.ome.zarr'))];
      expect(results.map((r) => r.spacingAssumed === true)).toEqual([assumed, assumed, assumed, assumed]);

      const head = nrrdHead(out('labels.nrrd'));
      expect(head.includes(`# ${ASSUMED_SPACING_NOTE}: the scan file gave no voxel size and 1 um was taken, so lengths, areas and volumes measured in this file rest on that guess`)).toBe(assumed);
      expect(/^content: .*VOXEL SIZE ASSUMED at import, not measured\)$/m.test(head)).toBe(assumed);
      expect(head.includes('\npetromap_spacing_assumed:=true')).toBe(assumed);
      expect(head).toContain('space directions: (1,0,0) (0,1,0) (0,0,1)');

      const nii = readFileSync(out('labels.nii'));
      expect(nii[123]).toBe(assumed ? 0 : 2); // xyzt_units: unknown, else mm
      const descrip = nii.subarray(148, 148 + 80).toString('latin1').replace(/\0.*$/s, '');
      expect(descrip.startsWith(ASSUMED_SPACING_NOTE)).toBe(assumed);
      expect(nii.readFloatLE(80)).toBeCloseTo(0.001, 9); // pixdim[1]: the numbers are still those of the mm file
      expect(Array.from(nii.subarray(NIFTI_VOX_OFFSET))).toEqual(Array.from(data));

      const ij = imageJ(out('labels.tif'));
      expect(ij).toContain(assumed ? '\nunit=pixel\n' : '\nunit=micron\n');
      expect(ij.includes(`\npetromap=${ASSUMED_SPACING_NOTE}: `)).toBe(assumed);

      const zattrs = JSON.parse(readFileSync(out('labels.v2.ome.zarr/.zattrs'), 'utf8')) as { petromap?: { spacingAssumed?: boolean; note?: string } };
      expect(zattrs.petromap?.spacingAssumed === true).toBe(assumed);

      // ITK (teem's NRRD reader, ITK's NIfTI reader) reads both with the same geometry as before
      const n = await readImageNode(out('labels.nrrd'));
      expect(n.spacing).toEqual([1, 1, 1]);
      expect(Array.from(n.data as Uint8Array)).toEqual(Array.from(data));
      const m = await readImageNode(out('labels.nii'));
      m.spacing.forEach((s) => expect(s).toBeCloseTo(0.001, 6));
    }
  });

  it.skipIf(skipPy)('independent readers see the mark: nibabel units unknown and the descrip, tifffile ImageJ unit pixel, zarr-python 2 the attribute (0.4 schema still valid)', async () => {
    const store = await labels('py', true);
    const out = (f: string) => join(tmp, 'py', f);
    await exportVolume(store, 'nifti', out('labels.nii'));
    await exportVolume(store, 'tiff', out('labels.tif'));
    await exportVolume(store, 'ome-zarr-v2', out('labels.v2.ome.zarr'));
    const nii = py<{ units: string[]; descrip: string; zooms: number[] }>('nifti', out('labels.nii'), []);
    expect(nii.units[0]).toBe('unknown');
    expect(nii.descrip.startsWith(ASSUMED_SPACING_NOTE)).toBe(true);
    const tif = py<{ imagej: Record<string, unknown>; shape: number[] }>('tiff', out('labels.tif'), []);
    expect(tif.shape).toEqual(shape);
    expect(tif.imagej.unit).toBe('pixel');
    expect(String(tif.imagej.petromap)).toMatch(/^VOXEL SIZE ASSUMED at import, not measured: the scan file gave no voxel size and 1 um was taken/);
    const z = py<{ attrs: { petromap?: { spacingAssumed?: boolean } } }>('zarr2', out('labels.v2.ome.zarr'), []);
    expect(z.attrs.petromap?.spacingAssumed).toBe(true);
    expect(py<{ errors: string[] }>('ngff', out('labels.v2.ome.zarr'), '0.4').errors).toEqual([]);
  });

  it('petromap --export names the marked files on stderr and in its JSON; a measured size prints nothing', async () => {
    for (const assumed of [true, false]) {
      const store = await labels(assumed ? 'cli-a' : 'cli-k', assumed);
      const dir = join(tmp, assumed ? 'cli-a' : 'cli-k');
      const written: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((s: string | Uint8Array) => (written.push(String(s)), true)) as typeof process.stderr.write;
      let done;
      try {
        done = await exportLabels(store.path, ['nrrd', 'tiff', 'ome-zarr'], dir);
      } finally {
        process.stderr.write = write;
      }
      expect(done.map((e) => e.spacingAssumed === true)).toEqual([assumed, assumed, assumed]);
      const said = written.join('');
      if (!assumed) expect(said).not.toMatch(/assumed/);
      else {
        expect(said).toMatch(/^petromap --export: warning: labels\.nrrd, labels\.tif, labels\.ome\.zarr carry the voxel size assumed at import, not a measured one: each file says so/);
        expect(said).toContain('a length, area or volume measured in it rests on that guess');
        expect(said).toContain('petromap import <scan> --spacing z,y,x --out <new store>');
      }
    }
  });
});
