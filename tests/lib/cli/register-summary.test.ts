/**
 * register's one-line summary of a per-field registration (lib/cli/register.ts registerSummary):
 * the alignment error it calls held out is the whole-map transform's under the fields (the
 * confidence's reading), never the fields' fit residual (heldOutRmsVox.fields: each field's shift is
 * fitted on those patches). Before, a map at 0.6x its pixel size, 42 voxels off, read "alignment
 * error 0.70 voxel (RMS over 3 map patches, each held out)" (review R3).
 */
import { expect, it } from 'vitest';
import { registerSummary } from '../../../lib/cli/register';
import type { RegistrationWithSlab } from '../../../lib/registration';

const o = { map: 'map.png', volume: 'scan.ome.zarr', face: 'top', out: 'registration.json', transformFile: 'registration.json.TransformParameters.txt', voxelUm: 2, fields: '9 fields (grid 3x3)' };
const reg = (held: { similarity: number | null; affine: number | null; fields: number | null }, confidenceHeld: number | null, patches: number) => ({
  model: 'fields',
  modelChoice: { requested: 'fields', kept: 'fields', reason: 'fields (on the similarity)', patches, heldOutRmsVox: held },
  quality: {
    miBefore: 0.3, miAfter: 0.3, scoreAfter: 0.2, coverage: 1, initialisation: 'automatic', refinedBy: 'ratio',
    confidence: { verdict: confidenceHeld === null ? 'doubtful' : 'confirmed', reason: '.', readings: { heldOutRmsVox: confidenceHeld, patches, miRatio: 4, coverage: 1, landmarkRmsVox: null } },
  },
}) as unknown as Pick<RegistrationWithSlab, 'model' | 'modelChoice' | 'quality'>;

it('a per-field registration: the held-out error is the whole-map transform\'s; the fields\' residual is not called held out', () => {
  const right = registerSummary(reg({ similarity: 0.25, affine: 0.3, fields: 0.39 }, 0.25, 14), o);
  expect(right).toContain('alignment error 0.25 voxel = 0.5 µm (RMS over 14 map patches, each held out, of the whole-map transform under the fields)');
  const wrong = registerSummary(reg({ similarity: null, affine: null, fields: 0.7 }, null, 3), o);
  expect(wrong).toContain('alignment error not measured (too few map patches lie on the volume; the fields fit their own patches to 0.70 voxel = 1.4 µm, not held out)');
  expect(wrong).not.toMatch(/0\.70 voxel = 1\.4 µm \(RMS over/);
});
