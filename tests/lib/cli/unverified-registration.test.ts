/**
 * A registration nothing confirms (no landmarks, alignment error not measured) is said on stderr with
 * the sizes to compare, before the next command. Found on an independent test rock: a 1.5x wrong
 * --pixel-um (46 % of the map on the volume, 65 voxels off) and a map of the bottom face given as the
 * top (48 %, 73 voxels off) both ended with "next: train on it" and no word of doubt.
 */
import { describe, expect, it } from 'vitest';
import { unverifiedRegistration } from '../../../lib/cli/register';

const base = { model: 'similarity' as const, quality: { miBefore: 0.2, miAfter: 0.2, scoreAfter: 0.28, coverage: 0.456, initialisation: 'automatic' as const, refinedBy: 'ratio' as const } };
const choice = (held: number | null) => ({ requested: 'auto', kept: 'similarity', reason: '', patches: held === null ? 0 : 17, heldOutRmsVox: { similarity: held, affine: held, fields: null } });
const sizes = { mapPx: [118, 104] as [number, number], mapPixelUm: 2.4, volumeUm: [224, 224] as [number, number], face: 'top' };

describe('register: a registration nothing confirms', () => {
  it('warns, naming the coverage, the map and face sizes in µm and what to check', () => {
    const w = unverifiedRegistration({ ...base, modelChoice: choice(null) } as never, sizes);
    expect(w).toMatch(/nothing confirms this registration/);
    expect(w).toMatch(/46 % of the map lies on the volume/);
    expect(w).toMatch(/At 2\.4 µm per pixel the map is 283 x 250 µm; the volume's top face is 224 x 224 µm/);
    expect(w).toMatch(/--pixel-um.*--face bottom.*--landmarks/);
  });

  it('warns when the held-out patches fit only to more than 0.9 voxel (a wrong pixel size on a test rock: 0.95-4.1)', () => {
    const w = unverifiedRegistration({ ...base, modelChoice: choice(1.1) } as never, sizes);
    expect(w).toMatch(/nothing confirms this registration: the map patches held out of its fit agree with it only to 1\.10 voxel/);
    expect(w).toMatch(/--pixel-um.*--face bottom.*--landmarks/);
  });

  it('says nothing when the held-out alignment error was measured small or landmarks placed the map', () => {
    expect(unverifiedRegistration({ ...base, modelChoice: choice(0.42) } as never, sizes)).toBeUndefined();
    expect(unverifiedRegistration({ ...base, modelChoice: choice(0.88) } as never, sizes)).toBeUndefined();
    expect(unverifiedRegistration({ ...base, modelChoice: choice(null), quality: { ...base.quality, landmarkResiduals: [0.5, 0.7] } } as never, sizes)).toBeUndefined();
  });
});
