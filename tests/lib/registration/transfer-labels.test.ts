import { describe, expect, it } from 'vitest';
import { applyAffine2to3, invertAffine2, projectToAffine2to3, type Affine2 } from '../../../lib/coords';
import { detectSurface } from '../../../lib/registration/detect-surface';
import { extractSlab } from '../../../lib/registration/extract-slab';
import { classMapFromNames, erodeLabels, transferLabels } from '../../../lib/registration/transfer-labels';
import { smallSample } from './helpers';

describe('erodeLabels', () => {
  it('drops pixels within the radius of another class or no label', () => {
    const w = 7, h = 5, l = new Uint8Array(w * h).fill(2);
    for (let v = 0; v < h; v++) l[v * w + 3] = 3;
    const e = erodeLabels(l, w, h, 1);
    expect(Array.from(e.subarray(0, w))).toEqual([0, 0, 0, 0, 0, 0, 0]); // border row
    expect(Array.from(e.subarray(2 * w, 3 * w))).toEqual([0, 2, 0, 0, 0, 2, 0]);
  });
});

describe('transferLabels', () => {
  it('puts the EDS classes on the right voxels of the synthetic sandstone', async () => {
    const s = smallSample({ seed: 51, surfaceDepthVox: 5, tiltDeg: 3, tiltAzimuthDeg: 60, eds: { rotationDeg: 33, mirrored: true } });
    const surface = await detectSurface(s.volume);
    const slab = await extractSlab(s.volume, surface);
    // truth EDS -> slab from the truth EDS -> voxel
    const T = s.truth.edsToVoxel;
    const [p0, p1, p2] = [[0, 0], [1, 0], [0, 1]].map(([u, v]) => projectToAffine2to3(slab.slabToVoxel, ...applyAffine2to3(T, u, v)));
    const edsToSlab: Affine2 = [p1[0] - p0[0], p2[0] - p0[0], p0[0], p1[1] - p0[1], p2[1] - p0[1], p0[1]];
    expect(invertAffine2(edsToSlab)).toHaveLength(6);
    const classMap = classMapFromNames(s.eds.legend, { ...s.truth.mineralToClass, Pyrite: null });
    const out = transferLabels(s.eds, { edsToSlab, slabToVoxel: slab.slabToVoxel }, slab, classMap, { erodeRadius: 1 });
    const [nz, ny, nx] = s.volume.meta.shape;
    let agree = 0, n = 0, pyrite = 0;
    for (let v = 0; v < out.height; v++) for (let u = 0; u < out.width; u++) {
      const c = out.labels[v * out.width + u];
      if (!c) continue;
      if (c === 5) pyrite++;
      const [z, y, x] = applyAffine2to3(out.slabToVoxel, u, v).map(Math.round);
      if (z < 0 || z >= nz) continue;
      n++;
      if (s.truthLabels[(z * ny + y) * nx + x] === c) agree++;
    }
    expect(n).toBeGreaterThan(3000);
    expect(agree / n).toBeGreaterThan(0.95);
    expect(pyrite).toBe(0); // dropped by the class map
  });
});
