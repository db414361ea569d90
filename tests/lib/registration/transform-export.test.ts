/**
 * The registration file as other tools read it (issue 16 §4): edsToVoxel with named axes (old flat
 * files still read), and the elastix TransformParameters file applied by Debian's native transformix
 * (skipped when it is not installed): the EDS labels land on the surface voxels the truth gives.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyAffine2to3, type Affine2to3 } from '../../../lib/coords';
import { affine2to3FromJson, edsLabelsMha, elastixTransformText, namedEdsToVoxel } from '../../../lib/registration/transform-export';
import { isPetromapError } from '../../../lib/errors';
import { smallSample } from './helpers';

const TRANSFORMIX = '/usr/bin/transformix';

describe('registration transform export', () => {
  const s = smallSample({ seed: 71, surfaceDepthVox: 5, tiltDeg: 3, tiltAzimuthDeg: 60, eds: { rotationDeg: 35, pixelUm: 3, mirrored: true } });
  const truth = s.truth.edsToVoxel;
  let dir = '';
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('names the axes and reads both the named and the old flat form', () => {
    const named = namedEdsToVoxel(truth);
    const [z, y, x] = applyAffine2to3(truth, 10, 20);
    expect(named.x.u * 10 + named.x.v * 20 + named.x.offset).toBeCloseTo(x, 9);
    expect(named.y.u * 10 + named.y.v * 20 + named.y.offset).toBeCloseTo(y, 9);
    expect(named.z.u * 10 + named.z.v * 20 + named.z.offset).toBeCloseTo(z, 9);
    expect(affine2to3FromJson(JSON.parse(JSON.stringify(named)))).toEqual(truth);
    expect(affine2to3FromJson([...truth])).toEqual(truth);
    let err: unknown;
    try { affine2to3FromJson({ x: { u: 1 } }); } catch (e) { err = e; }
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
  });

  it.skipIf(!existsSync(TRANSFORMIX))('transformix puts the EDS labels on the true surface voxels', async () => {
    dir = await mkdtemp(join(tmpdir(), 'petromap-transformix-'));
    const meta = { ...s.volume.meta, originUm: [5, -3, 2] as [number, number, number] };
    await writeFile(join(dir, 'tp.txt'), elastixTransformText(truth, meta, 'similarity'));
    await writeFile(join(dir, 'eds.mha'), edsLabelsMha(s.eds.labels, s.eds.width, s.eds.height));
    execFileSync(TRANSFORMIX, ['-tp', join(dir, 'tp.txt'), '-in', join(dir, 'eds.mha'), '-out', dir], { stdio: 'ignore' });
    const buf = await readFile(join(dir, 'result.mha'));
    const at = buf.indexOf('ElementDataFile = LOCAL\n') + 'ElementDataFile = LOCAL\n'.length;
    const [nz, ny, nx] = s.volume.meta.shape;
    expect(buf.byteLength - at).toBe(nz * ny * nx * 2);
    const out = new Uint16Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + buf.byteLength));
    // every EDS pixel centre whose true voxel position is a voxel centre's neighbourhood: same label
    let same = 0, n = 0;
    for (let v = 2; v < s.eds.height - 2; v++) for (let u = 2; u < s.eds.width - 2; u++) {
      const [z, y, x] = applyAffine2to3(truth as Affine2to3, u, v).map(Math.round);
      if (z < 0 || y < 0 || x < 0 || z >= nz || y >= ny || x >= nx) continue;
      const got = out[(z * ny + y) * nx + x];
      if (!got) continue;
      n++;
      if (got === s.eds.labels[v * s.eds.width + u]) same++;
    }
    expect(n).toBeGreaterThan(500);
    // a voxel takes the label of the nearest EDS pixel to its centre (3 µm pixels, 2 µm voxels)
    expect(same / n).toBeGreaterThan(0.98);
  });
});
