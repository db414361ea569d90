import { readImageNode } from '@itk-wasm/image-io';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SANDSTONE_CLASSES } from '../../../lib/classes';
import { classMapFromNames } from '../../../lib/registration/transfer-labels';
import { depthCsv, modalCsv, toCsv } from '../../../lib/report/csv';
import { depthProfile } from '../../../lib/report/depth';
import { exportVolume, niftiHeader } from '../../../lib/report/export-node';
import { modalMineralogy } from '../../../lib/report/modal';
import { generateSandstone, summariseSample } from '../../../lib/synthetic';
import { importVolume } from '../../../lib/volume/import-node';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';
import type { DenseVolume } from '../../../lib/volume/types';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sample = generateSandstone({ shape: [24, 48, 40], seed: 5, grainDiameterVox: 10, tiltDeg: 3 });
const meta = { ...sample.volume.meta, dtype: 'uint8' as const, channels: ['label'] };
const labels: DenseVolume<'uint8'> = { meta, data: sample.truthLabels };
const classes = SANDSTONE_CLASSES.map((c) => ({ code: c.code, name: c.name }));

describe('modal mineralogy and depth profile', () => {
  it('gives the rock composition of the truth labels next to the EDS area fractions', async () => {
    const store = memoryVolumeStore(labels);
    const classMap = classMapFromNames(sample.eds.legend, sample.truth.mineralToClass);
    const m = await modalMineralogy(store, classes, { map: sample.eds, classMap, surface: sample.truth.surface, slabZ: 5 });
    const s = summariseSample(sample);
    expect(m.rows.map((r) => r.name)).toEqual(['pore', 'quartz', 'feldspar', 'clay', 'pyrite']);
    for (const r of m.rows) expect(r.volumePercent).toBeCloseTo(100 * s.rockFractions[r.name]!, 6);
    expect(m.rows.reduce((a, r) => a + r.volumePercent, 0)).toBeCloseTo(100, 6);
    // EDS: legend names merged into classes, unclassified excluded
    const edsByClass: Record<string, number> = {};
    let tot = 0;
    for (const [name, f] of Object.entries(s.edsFractions)) {
      const c = sample.truth.mineralToClass[name];
      if (!c) continue;
      edsByClass[SANDSTONE_CLASSES[c]!.name] = (edsByClass[SANDSTONE_CLASSES[c]!.name] ?? 0) + f;
      tot += f;
    }
    for (const r of m.rows) expect(r.edsAreaPercent!).toBeCloseTo((100 * (edsByClass[r.name] ?? 0)) / tot, 6);
    const csv = modalCsv(m);
    expect(csv.split('\r\n')[0]).toBe('class,name,voxels,volume_percent,eds_pixels,eds_area_percent');
    expect(csv.split('\r\n').length).toBe(7);
  });

  it('profiles class fractions by depth below the surface', async () => {
    const store = memoryVolumeStore(labels);
    const p = await depthProfile(store, sample.truth.surface, classes, { binVox: 2 });
    expect(p.classes.map((c) => c.code)).toEqual([1, 2, 3, 4, 5]);
    expect(p.binUm).toBe(2 * sample.volume.meta.spacingUm[0]);
    for (let k = 0; k < p.totals.length; k++) if (p.totals[k]) expect(p.fractions[k]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const rock = sample.truthLabels.reduce((a, c) => a + (c ? 1 : 0), 0);
    expect(p.totals.reduce((a, b) => a + b, 0)).toBe(rock);
    expect(depthCsv(p).split('\r\n')[0]).toBe('depth_from_um,depth_to_um,voxels,pore_fraction,quartz_fraction,feldspar_fraction,clay_fraction,pyrite_fraction');
  });

  it('quotes CSV cells that need it', () => {
    expect(toCsv(['a', 'b'], [['x,y', 'say "hi"'], [1.5, 2]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n1.5,2\r\n');
  });
});

describe('exportVolume', () => {
  it('streams NRRD, NIfTI and TIFF that read back identically (petromap importer and ITK)', async () => {
    const store = await writeDenseVolume(join(tmp, 'labels.ome.zarr'), labels, { chunk: [8, 16, 16], downsample: 'mode' });
    for (const [format, ext] of [['nrrd', 'nrrd'], ['nifti', 'nii'], ['tiff', 'tif']] as const) {
      const out = join(tmp, `labels.${ext}`);
      const r = await exportVolume(store, format, out, { slabZ: 5 });
      expect(statSync(out).size).toBe(r.bytes);
      const dest = join(tmp, `back-${ext}.ome.zarr`);
      const back = await importVolume(out, dest);
      expect(back.shape).toEqual(meta.shape);
      expect(back.dtype).toBe('uint8');
      for (let a = 0; a < 3; a++) expect(back.spacingUm[a]).toBeCloseTo(meta.spacingUm[a], 4);
      const v = await openVolume(dest);
      const d = await v.readBlock({ start: [0, 0, 0], shape: meta.shape });
      expect(Buffer.from(d.buffer, d.byteOffset, d.byteLength).equals(Buffer.from(sample.truthLabels))).toBe(true);
      if (format !== 'tiff') {
        const img = await readImageNode(out);
        expect(img.size).toEqual([meta.shape[2], meta.shape[1], meta.shape[0]]);
        expect(Buffer.from((img.data as Uint8Array).buffer).equals(Buffer.from(sample.truthLabels))).toBe(true);
        // ITK converts NIfTI's micrometre unit to millimetres
        expect(img.spacing[0]).toBeCloseTo(format === 'nifti' ? meta.spacingUm[2] / 1000 : meta.spacingUm[2], 6);
      }
    }
    expect(niftiHeader(meta).length).toBe(352);
    expect(readFileSync(join(tmp, 'labels.nii')).subarray(344, 347).toString('latin1')).toBe('n+1');
  });

  it('copies to OME-Zarr with a majority pyramid for labels', async () => {
    const store = await openVolume(join(tmp, 'labels.ome.zarr'));
    const r = await exportVolume(store, 'ome-zarr', join(tmp, 'copy.ome.zarr'));
    const c = await openVolume(r.path);
    expect(c.downsample).toBe('mode');
    const a = await c.readBlock({ start: [0, 0, 0], shape: meta.shape });
    expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(sample.truthLabels))).toBe(true);
    if (c.levels > 1) {
      const l1 = await c.readBlock({ start: [0, 0, 0], shape: c.levelShape(1) }, { level: 1 });
      expect(Math.max(...l1)).toBeLessThanOrEqual(5);
    }
  });
});
