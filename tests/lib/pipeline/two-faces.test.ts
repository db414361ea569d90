/**
 * Issue 15 §1, a second EDS section: runMineralogy with the top map and the bottom face's map
 * registers both, trains one model on both faces' labels (held-out tiles on each face) and
 * predicts; a second map that cannot be this sample's bottom face (no class in its legend,
 * another sample) is refused in words before anything is written.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFacesTrainingSet } from '../../../lib/classify/face-training-set';
import { confusionMetrics } from '../../../lib/classify/model';
import { isPetromapError } from '../../../lib/errors';
import { runMineralogy } from '../../../lib/pipeline/run-mineralogy';
import { classMapFromNames } from '../../../lib/registration/transfer-labels';
import { generateSandstone } from '../../../lib/synthetic';
import { generateTwoFaceSandstone, type TwoFaceSample } from '../../../lib/synthetic/two-faces';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { TEST_SET } from '../classify/helpers';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-run-two-faces-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let s: TwoFaceSample;
const volumePath = join(tmp, 'volume.ome.zarr');
beforeAll(async () => {
  s = generateTwoFaceSandstone({ shape: [48, 112, 112], seed: 4, grainDiameterVox: 14 });
  await writeDenseVolume(volumePath, s.volume, { chunk: [32, 64, 64] });
});

describe('runMineralogy with the top and the bottom face mapped', () => {
  it('registers both maps, trains one model on both faces and predicts the volume', async () => {
    const classMap = classMapFromNames(s.eds.legend, s.truth.mineralToClass);
    const out = join(tmp, 'run');
    const r = await runMineralogy(volumePath, s.eds, classMap, out, {
      featureSet: TEST_SET, threads: 2, brick: [32, 64, 64], train: { epochs: 30 }, register: { inWorker: false },
      moreMaps: [{ map: s.bottom.eds, classMap: classMapFromNames(s.bottom.eds.legend, s.truth.mineralToClass), face: 'bottom' }],
    });
    expect(r.moreRegistrations?.[0]?.face).toBe('bottom');
    expect(existsSync(join(out, 'registration-2.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'registration-2.json'), 'utf8')).face).toBe('bottom');
    // the bottom map's centre within 1.5 voxels of the truth (the top's check in run-mineralogy.test.ts)
    const m = r.moreRegistrations![0]!.edsToVoxel, t = s.bottom.edsToVoxel;
    const u = s.bottom.eds.width / 2, v = s.bottom.eds.height / 2;
    expect(Math.hypot(...[0, 1, 2].map((k) => m[3 * k]! * u + m[3 * k + 1]! * v + m[3 * k + 2]! - (t[3 * k]! * u + t[3 * k + 1]! * v + t[3 * k + 2]!)))).toBeLessThan(1.5);
    // labels from both faces: about twice one face's; the held-out tiles hold voxels of both faces
    const nz = s.volume.meta.shape[0];
    expect(r.trainingCounts.reduce((a, c) => a + c.heldOut, 0)).toBeGreaterThan(0);
    const lab = (await (await openVolume(r.files.labels)).readBlock({ start: [0, 0, 0], shape: s.volume.meta.shape })) as Uint8Array;
    const tt: number[] = [], pp: number[] = [];
    for (let i = 0; i < lab.length; i++) if (s.truthLabels[i]) { tt.push(s.truthLabels[i]!); pp.push(lab[i]!); }
    const c = confusionMetrics(tt, pp, [1, 2, 3, 4, 5]);
    // the top-only run of run-mineralogy.test.ts measured 0.51 mean IoU on a 40-slice sample
    expect(c.meanIoU).toBeGreaterThan(0.44);
    expect(r.validation.accuracy).toBeGreaterThan(0.7);
    console.log(`two faces 48x112x112 seed 4: 3D mean IoU ${c.meanIoU.toFixed(3)}, held-out accuracy ${r.validation.accuracy.toFixed(3)}, ${r.labelledVoxels} labelled voxels; nz ${nz}`);
  }, 600_000); // ~100 s wall at load 14 (two registrations, training, quality estimate, prediction)

  it('holds out tiles on each face and maps the bottom face\'s voxels back to the volume', async () => {
    const store = await openVolume(volumePath);
    const nz = store.meta.shape[0];
    // stand-in labels: the truth one layer inside each face (the test is about the split and the frames)
    const face = (f: 'top' | 'bottom') => {
      const labelled = [];
      for (let y = 0; y < 112; y += 2) for (let x = 0; x < 112; x += 2) {
        const zf = f === 'top' ? 8 : 10; // in the face's own frame
        const z = f === 'top' ? zf : nz - 1 - zf;
        const cls = s.truthLabels[(z * 112 + y) * 112 + x]!;
        if (cls) labelled.push({ z: zf, y, x, cls });
      }
      return { face: f, labelled, partial: [], surface: { a: 0, b: 0, c: 4 }, source: `${f} labels` };
    };
    const ts = await buildFacesTrainingSet(store, [face('top'), face('bottom')], { features: async (st, box) => {
      // one feature: the grey value, so rows can be checked against the volume at their positions
      const d = await st.readBlockF32(box);
      return { shape: box.shape, nFeatures: 1, names: ['grey'], data: d };
    }, maxPerClass: 200 });
    const grey = async (z: number, y: number, x: number) => (await store.readBlockF32({ start: [z, y, x], shape: [1, 1, 1] }))[0]!;
    const zs = new Set<number>();
    for (const rows of [ts.train, ts.heldOut]) {
      for (let i = 0; i < rows.n; i += 37) {
        const [z, y, x] = [rows.positions[3 * i]!, rows.positions[3 * i + 1]!, rows.positions[3 * i + 2]!];
        zs.add(z);
        expect(rows.y[i]).toBe(s.truthLabels[(z * 112 + y) * 112 + x]);
      }
    }
    expect([...zs].sort((a, b) => a - b)).toEqual([8, nz - 11]);
    const heldZ = new Set(Array.from({ length: ts.heldOut.n }, (_, i) => ts.heldOut.positions[3 * i]!));
    expect(heldZ).toEqual(new Set([8, nz - 11])); // held-out tiles on each face
    expect(ts.train.x[0]).toBe(await grey(ts.train.positions[0]!, ts.train.positions[1]!, ts.train.positions[2]!));
    expect(ts.mirrorSurface?.c).toBe(4); // the top face's: prediction mirrors above it
  });

  it.each([
    ['a legend with no mineral of a class', () => ({ map: s.bottom.eds, classMap: Object.fromEntries(s.bottom.eds.legend.map((p) => [p.id, null])) }), /second EDS map.*bottom face.*none of its minerals.*Quartz/],
    ['a map of another sample', () => {
      const other = generateSandstone({ shape: [48, 112, 112], seed: 104, grainDiameterVox: 14 });
      return { map: { ...other.eds, source: 'other.png' }, classMap: classMapFromNames(other.eds.legend, other.truth.mineralToClass) };
    }, /second EDS map \(other\.png\), bottom face does not match the bottom face/],
  ] as const)('refuses %s in words, before anything is written', async (_name, make, message) => {
    const out = join(tmp, `bad-${_name.length}`);
    const { map, classMap } = make();
    let err: unknown;
    try {
      await runMineralogy(volumePath, s.eds, classMapFromNames(s.eds.legend, s.truth.mineralToClass), out, {
        featureSet: TEST_SET, threads: 2, brick: [32, 64, 64], train: { epochs: 5 }, register: { inWorker: false },
        moreMaps: [{ map, classMap, face: 'bottom' }],
      });
    } catch (e) {
      err = e;
    }
    expect(isPetromapError(err, 'Unprocessable')).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect(readdirSync(out)).toEqual([]); // no registration, model or prediction written
    const d = (err as { details?: { miAfter?: number; firstMi?: number } }).details;
    if (d?.firstMi) console.log(`${_name}: matches ${(d.miAfter! / d.firstMi).toFixed(2)}x the first map's MI (refused below 0.65x)`);
  }, 300_000);
});
