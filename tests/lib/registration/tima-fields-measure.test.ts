/**
 * Measurement, not a CI test (run with PETROMAP_MEASURE_FIELDS=1): is per-field refinement
 * sensible with many small fields, as in a TIMA mosaic (tima-sta: 308 fields of 83 px)? Synthetic
 * stitched maps (distortEdsMap mosaic, 6 x 6 fields of ~30 px, the map's grains ~8-20 px) with and
 * without field offsets, registered without fields (auto) and with the per-field model; error
 * against the generator's per-pixel truth (PETROMAP_MEASURE_FIELDS=grains: grains of 6 voxels). Appends one line per case to $PETROMAP_MEASURE_FIELDS_OUT.
 */
import { appendFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import { registrationErrorAt } from '../../../lib/registration/quality';
import { edsPointToVoxel } from '../../../lib/registration/refine-fields';
import { distortEdsMap, type EdsDistortion } from '../../../lib/synthetic/eds';
import { smallSample } from './helpers';

const ON = !!process.env.PETROMAP_MEASURE_FIELDS;
const OUT = process.env.PETROMAP_MEASURE_FIELDS_OUT ?? '/dev/stdout';

describe.skipIf(!ON)('per-field refinement with many small fields (measurement)', () => {
  it('auto vs per-field, with and without field offsets', async () => {
    // PETROMAP_MEASURE_FIELDS=grains: smaller grains (6 voxels = ~9 EDS px), several grains per field as in tima-sta
    const grains = process.env.PETROMAP_MEASURE_FIELDS === 'grains';
    const configs: [string, EdsDistortion][] = [
      ['6x6 offsets<=3px', { coverage: 0.9, mosaic: { cols: 6, rows: 6, maxShiftPx: 3 } }],
      ['6x6 no offsets', { coverage: 0.9, mosaic: { cols: 6, rows: 6, maxShiftPx: 0 } }],
      ...(grains ? [] : [['3x3 no offsets', { coverage: 0.9, mosaic: { cols: 3, rows: 3, maxShiftPx: 0 } }] as [string, EdsDistortion]]),
    ];
    for (const seed of grains ? [8, 3] : [8, 3, 12]) for (const [name, d] of configs) {
      const s = smallSample({
        ...(grains ? { grainDiameterVox: 6 } : {}),
        seed, surfaceDepthVox: 4 + (seed % 4), tiltDeg: 1 + (seed % 3), tiltAzimuthDeg: 37 * seed,
        eds: { rotationDeg: 53 * seed, pixelUm: 1.4, mirrored: seed % 2 === 0, offsetVox: { x: ((seed * 7) % 11) - 5, y: ((seed * 5) % 9) - 4 } },
      });
      const m = distortEdsMap(s, d);
      const fields = m.fields!.map(({ shiftPx: _s, ...f }) => f);
      const out: string[] = [];
      for (const [mode, opts] of [['auto', {}], ['fields', { model: 'fields' as const, fields }]] as const) {
        const c0 = process.cpuUsage();
        const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, ...opts });
        const c = process.cpuUsage(c0);
        const e = registrationErrorAt((u, v) => edsPointToVoxel(r, u, v), m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
        const moved = r.fields?.filter((f) => f.moved).length ?? 0, amb = r.fields?.filter((f) => (f as { ambiguous?: boolean }).ambiguous).length ?? 0;
        out.push(`${mode}: ${r.model} mean ${e.mean.toFixed(3)} max ${e.max.toFixed(3)} moved ${moved}/${r.fields?.length ?? 0} ambiguous ${amb} cpu ${((c.user + c.system) / 1e6).toFixed(1)} s`);
      }
      appendFileSync(OUT, `${grains ? 'grains 6 vox, ' : ''}${name} seed ${seed} map ${m.eds.width}x${m.eds.height} fields of ${fields[0]!.width} px | ${out.join(' | ')}\n`);
    }
  }, 3_600_000);
});
