/**
 * `petromap import-eds … --crop x,y,width,height`: a map far larger than the scan was refused with
 * "crop the map", which petromap could not do. The crop keeps a box of the map (labels, measured
 * mask, companions and a TIMA field layout cut alike, pixel size unchanged, the box recorded in
 * map.json); a cropped synthetic map registers on its volume within the acceptance bounds against the
 * generator's truth moved by the box's origin. Boxes leaving the map or holding no classified pixel
 * are refused in words.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { main } from '../../../lib/cli/main';
import { cropMineralMap, parseCropBox } from '../../../lib/eds/crop';
import { loadMineralMap, saveMineralMap } from '../../../lib/eds/store-node';
import type { MineralMap } from '../../../lib/eds/types';
import { isPetromapError } from '../../../lib/errors';
import { checkMapScale } from '../../../lib/registration/map-scale';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import { writeSyntheticSample } from '../../../lib/synthetic/write-sample-node';
import { capture, cliTempDir } from '../cli/cli-session';
import { registrationError, smallSample } from '../registration/helpers';

const tmp = cliTempDir('petromap-crop-');

it('a synthetic map 1.6 times as wide as the scan, cropped by import-eds, registers on the volume: error within 0.5 / 1.5 voxel of the truth', async () => {
  const s = smallSample({ seed: 33, eds: { coverage: 1.6 } });
  const dir = path.join(tmp, 'sample');
  await writeSyntheticSample(dir, s);
  const box = { x: 30, y: 36, width: 100, height: 90 };
  const out = path.join(tmp, 'cropped');
  const r = await capture(() => main(['import-eds', path.join(dir, 'eds-map.png'), path.join(dir, 'eds-legend.csv'), '--pixel-um', String(s.eds.pixelSizeUm),
    '--crop', `${box.x},${box.y},${box.width},${box.height}`, '--out', out]));
  expect(r.code, r.err).toBe(0);
  const crop = { ...box, fromWidth: s.eds.width, fromHeight: s.eds.height };
  expect(JSON.parse(r.out).crop).toEqual(crop);
  expect(JSON.parse(readFileSync(path.join(out, 'map.json'), 'utf8')).crop).toEqual(crop);
  const map = await loadMineralMap(out);
  expect([map.width, map.height, map.pixelSizeUm, map.crop]).toEqual([box.width, box.height, s.eds.pixelSizeUm, crop]);
  // pixel (u, v) of the cropped map is (u + x, v + y) of the whole one
  for (const [u, v] of [[0, 0], [99, 0], [57, 89]] as const) expect(map.labels[v * map.width + u]).toBe(s.eds.labels[(v + box.y) * s.eds.width + u + box.x]);

  const reg = await registerEdsToVolume(s.volume, map, { inWorker: false });
  const m = s.truth.edsToVoxel;
  const truth = [0, 3, 6].flatMap((k) => [m[k]!, m[k + 1]!, m[k + 2]! + m[k]! * box.x + m[k + 1]! * box.y]);
  const e = registrationError(reg.edsToVoxel, truth as typeof m, map.width, map.height, s.volume.meta.shape);
  expect(e.n).toBeGreaterThan(100);
  expect(e.mean).toBeLessThanOrEqual(0.5);
  expect(e.max).toBeLessThanOrEqual(1.5);
}, 120_000);

/** A 6 × 5 map of two TIMA fields (3 columns each), a not-measured corner and a BSE companion. */
function timaLike(): MineralMap {
  const w = 6, h = 5;
  const labels = Uint16Array.from({ length: w * h }, (_, i) => ((i % w) < 2 && i < 2 * w ? 0 : 1 + (i % 2)));
  const measured = Uint8Array.from({ length: w * h }, (_, i) => ((i % w) < 2 && i < 2 * w ? 0 : 1));
  return {
    width: w, height: h, pixelSizeUm: 1.5, labels, measured, source: 'tima',
    legend: [{ id: 1, name: 'Quartz', color: [236, 220, 180] }, { id: 2, name: 'Albite', color: [200, 60, 60] }],
    companions: [{ name: 'BSE', data: Float32Array.from({ length: w * h }, (_, i) => i) }],
    fields: [{ name: 'A', u0: 0, v0: 0, width: 3, height: 5 }, { name: 'B', u0: 3, v0: 0, width: 3, height: 5 }],
  };
}

it('cuts the measured mask, the companions and the field layout with the labels; records the box; stores and reads it back', async () => {
  const map = timaLike();
  const c = cropMineralMap(map, { x: 1, y: 1, width: 4, height: 3 });
  expect([c.width, c.height, c.pixelSizeUm]).toEqual([4, 3, 1.5]);
  for (let v = 0; v < 3; v++) for (let u = 0; u < 4; u++) {
    const i = v * 4 + u, j = (v + 1) * 6 + u + 1;
    expect([c.labels[i], c.measured![i], c.companions[0]!.data[i]]).toEqual([map.labels[j], map.measured![j], map.companions[0]!.data[j]]);
  }
  expect(c.fields).toEqual([{ name: 'A', u0: 0, v0: 0, width: 2, height: 3 }, { name: 'B', u0: 2, v0: 0, width: 2, height: 3 }]);
  expect(c.crop).toEqual({ x: 1, y: 1, width: 4, height: 3, fromWidth: 6, fromHeight: 5 });
  // a box inside one field keeps that field only
  expect(cropMineralMap(map, { x: 4, y: 0, width: 2, height: 5 }).fields).toEqual([{ name: 'B', u0: 0, v0: 0, width: 2, height: 5 }]);
  const dir = path.join(tmp, 'tima-cropped');
  await saveMineralMap(dir, c);
  const back = await loadMineralMap(dir);
  expect([back.crop, back.fields, Array.from(back.labels)]).toEqual([c.crop, c.fields, Array.from(c.labels)]);
});

it('refuses in words a box that leaves the map, one with no classified pixel, and a box that is not 4 whole numbers', () => {
  const map = timaLike();
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(isPetromapError(e, 'InvalidInput')).toBe(true);
      return (e as Error).message;
    }
    throw new Error('not refused');
  };
  expect(refusal(() => cropMineralMap(map, { x: 4, y: 1, width: 4, height: 5 }))).toBe(
    '--crop 4,1,4,5 leaves the map tima (6 × 5 px): it ends at column 7, the map\'s last is 5; it ends at row 5, the map\'s last is 4. Give a box inside it (x,y,width,height in map pixels).');
  expect(refusal(() => cropMineralMap(map, { x: 0, y: 0, width: 2, height: 2 }))).toMatch(/^--crop 0,0,2,2 holds no classified pixel of the map tima \(6 × 5 px\): every pixel in it is unclassified or not measured\. Choose a box over the mapped rock/);
  for (const bad of ['1,2,3', '1,2,0,4', '-1,0,2,2', '1.5,0,2,2', 'a,b,c,d']) expect(refusal(() => parseCropBox(bad))).toMatch(/^--crop takes the box as x,y,width,height in whole map pixels/);
  expect(parseCropBox(' 3, 4,5 ,6')).toEqual({ x: 3, y: 4, width: 5, height: 6 });
});

it('the refusal of a map far larger than the scan names the crop', () => {
  expect(() => checkMapScale({ width: 1660, height: 1660, pixelSizeUm: 12.048, classes: 30 }, { shape: [96, 160, 160], spacingUm: [1, 1, 1] }))
    .toThrow(/crop the map to the scanned area \(on the command line: petromap import-eds <map> --crop x,y,width,height, a box in map pixels\), or place it with 3 landmark pairs/);
});
