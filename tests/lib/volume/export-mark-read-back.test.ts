/**
 * petromap's exports of a scan whose voxel size was assumed carry a mark (NRRD key
 * petromap_spacing_assumed:=true; NIfTI units unknown and descrip starting with the note; OME-Zarr
 * 0.4 and 0.5 petromap.spacingAssumed in the group's attributes). The
 * readers ignored it: `petromap info labels.nrrd` said spacingKnown true and importing the export
 * made a store of a "measured" 1 µm, with no warning after. Now the mark is read back: the size is
 * kept, spacingKnown is false, a note says so, an import marks the store assumed (info warns) and
 * --spacing replaces it. Exports of a measured size, and files without the mark, read as before.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportLabels } from '../../../lib/cli/export-labels';
import { main } from '../../../lib/cli/main';
import { niftiHeader, nrrdHeader } from '../../../lib/report/volume-headers';
import { describeVolumeFile } from '../../../lib/volume/import-node';
import type { Shape3 } from '../../../lib/volume/types';
import { createVolume } from '../../../lib/volume/zarr-store-node';
import { capture, cliTempDir } from '../cli/cli-session';

const tmp = cliTempDir('petromap-mark-read-');
const shape: Shape3 = [4, 6, 8];
const voxels = Uint8Array.from({ length: 4 * 6 * 8 }, (_, i) => 1 + (i % 5));

async function exportsOf(name: string, spacingAssumed: boolean, spacingUm: [number, number, number]) {
  const dir = path.join(tmp, name);
  const p = path.join(dir, 'prediction', 'labels.ome.zarr');
  const s = await createVolume(p, { shape, spacingUm, originUm: [0, 0, 0], dtype: 'uint8', channels: ['label'] }, { chunk: shape, downsample: 'mode', spacingAssumed });
  await s.writeBlock({ start: [0, 0, 0], shape }, voxels);
  await capture(() => exportLabels(p, ['nrrd', 'nifti', 'ome-zarr', 'ome-zarr-v2'], dir).then(() => 0));
  return { nrrd: path.join(dir, 'labels.nrrd'), nifti: path.join(dir, 'labels.nii'), zarr: path.join(dir, 'labels.ome.zarr'), zarr2: path.join(dir, 'labels.v2.ome.zarr') };
}

describe('the assumed-voxel-size mark of petromap exports, read back', () => {
  it('an export of an assumed scan reads assumed (size kept, a note naming --spacing); a measured one reads measured', async () => {
    const a = await exportsOf('assumed', true, [1, 1, 1]);
    const m = await exportsOf('measured', false, [2.5, 2, 2]);
    for (const f of [a.nrrd, a.nifti, a.zarr, a.zarr2]) {
      const d = await describeVolumeFile(f);
      expect(d.spacingKnown, f).toBe(false);
      expect(d.spacingUm[0]).toBeCloseTo(1, 6);
      expect(d.notes.join('\n')).toMatch(/petromap wrote this (NRRD file|NIfTI file|OME-Zarr) from a scan whose voxel size was assumed at import, not measured, and marked it so: its 1 µm is kept and marked assumed again \(give the real voxel size with --spacing z,y,x\)/);
      expect(d.notes.join('\n')).not.toMatch(/gives no length unit/);
      // --spacing replaces it, as for any scan, and the note goes
      const g = await describeVolumeFile(f, { spacingUm: [3, 3, 3] });
      expect(g.spacingKnown).toBe(true);
      expect(g.notes.join('\n')).not.toMatch(/assumed/);
    }
    for (const f of [m.nrrd, m.nifti, m.zarr, m.zarr2]) {
      const d = await describeVolumeFile(f);
      expect(d.spacingKnown, f).toBe(true);
      expect(d.spacingUm.map((v) => +v.toPrecision(6))).toEqual([2.5, 2, 2]);
      expect(d.notes.join('\n')).not.toMatch(/assumed/);
    }
  });

  it('importing the export keeps "assumed": the store is marked and info warns, as for the scan it came from', async () => {
    const a = await exportsOf('imp', true, [1, 1, 1]);
    for (const [f, name] of [[a.nrrd, 'n.ome.zarr'], [a.nifti, 'i.ome.zarr']] as const) {
      const store = path.join(tmp, name);
      const imp = await capture(() => main(['import', f, '--out', store]));
      expect(imp.code, imp.err).toBe(0);
      expect(imp.err).toMatch(/note: petromap wrote this .* marked assumed again/);
      const i = await capture(() => main(['info', store]));
      expect(JSON.parse(i.out).spacingAssumed).toBe(true);
      expect(i.err).toMatch(new RegExp(`warning: the voxel size of ${name.replace('.', '\\.')} \\(1 µm\\) was assumed at import`));
      const fi = await capture(() => main(['info', f]));
      expect(JSON.parse(fi.out).spacingKnown).toBe(false);
    }
  });

  it('foreign files are unchanged: a NRRD with another key/value, a NIfTI with unknown units and another descrip', async () => {
    const nrrd = path.join(tmp, 'foreign.nrrd');
    const head = nrrdHeader({ shape, spacingUm: [1, 1, 1], comment: 'x' }).replace('endian: little\n', 'endian: little\nother_spacing_assumed:=true\n');
    writeFileSync(nrrd, Buffer.concat([Buffer.from(head, 'latin1'), voxels]));
    expect((await describeVolumeFile(nrrd)).spacingKnown).toBe(true);
    const nii = path.join(tmp, 'foreign.nii');
    const h = niftiHeader({ shape, spacingUm: [1, 1, 1], units: 'mm', description: 'segmentation from Avizo' });
    h[123] = 0; // units unknown, as many tools write
    writeFileSync(nii, Buffer.concat([h, voxels]));
    const d = await describeVolumeFile(nii);
    expect(d.spacingKnown).toBe(true);
    expect(d.notes.join('\n')).toMatch(/gives no length unit/);
  });
});
