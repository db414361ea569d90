import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMineralMap } from '../../../lib/eds/import-node';
import { parseTimaFields, parseTimaMeasurement, parseTimaPhases, placeTimaFields, stitchTimaFields } from '../../../lib/eds/tima';
import { notMeasuredFraction, unclassifiedFraction, type MineralMap } from '../../../lib/eds/types';
import { isPetromapError } from '../../../lib/errors';

const TIMA = join(__dirname, '../../../../shared/data/tima-sta');
const have = existsSync(join(TIMA, 'measurement.xml'));

describe('TIMA XML parsing (inline)', () => {
  it('reads measurement, fields and phases, tolerant of namespaces, attribute order and entities', () => {
    const m = parseTimaMeasurement('<?xml version="1.0"?><t:ExportedMeasurementData xmlns:t="x"><t:ViewField>500</t:ViewField><t:ImageWidth>100</t:ImageWidth><t:ImageHeight>50</t:ImageHeight><t:SemImages><t:SemImage><t:FileName>bse.png</t:FileName><t:Caption>BSE</t:Caption></t:SemImage></t:SemImages></t:ExportedMeasurementData>');
    expect(m).toEqual({ viewFieldUm: 500, imageWidth: 100, imageHeight: 50, semImages: [{ fileName: 'bse.png', caption: 'BSE' }] });
    const f = parseTimaFields('<?xml version="1.0"?><X><FieldDir>f</FieldDir><Fields><Field y="-5" name="A1" x="10.5"/><Field x="0" y="0" name="A2"></Field></Fields></X>');
    expect(f).toEqual({ fieldDir: 'f', fields: [{ name: 'A1', x: 10.5, y: -5 }, { name: 'A2', x: 0, y: 0 }] });
    const p = parseTimaPhases('<?xml version="1.0"?><P><PrimaryPhase color="#ff0000" id="3" name="Fe &amp; Ti oxide"/></P>');
    expect(p).toEqual([{ id: 3, name: 'Fe & Ti oxide', color: [255, 0, 0], mass: undefined }]);
  });

  it('rejects broken XML with the file name', () => {
    const msg = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(isPetromapError(e, 'InvalidInput')).toBe(true);
        return (e as Error).message;
      }
      return '';
    };
    expect(msg(() => parseTimaMeasurement('<?xml version="1.0"?><M><ImageWidth>8</ImageWidth></M>', 'S/measurement.xml'))).toMatch(/S\/measurement\.xml.*ViewField.*missing/);
    expect(msg(() => parseTimaFields('<?xml version="1.0"?><F></F>', 'S/fields.xml'))).toMatch(/S\/fields\.xml lists no fields/);
    expect(msg(() => parseTimaFields('<F><Field name="A" x="1" y="q"/></F>', 'fields.xml'))).toMatch(/stage y of field A.*"q"/);
    expect(msg(() => parseTimaPhases('<P><PrimaryPhase id="1" name="Q" color="grey"/></P>', 'phases.xml'))).toMatch(/"Q".*"grey"/);
  });

  it('places fields with u growing as stage x falls and v growing with stage y; nearest field centre wins overlaps', () => {
    const m = { viewFieldUm: 40, imageWidth: 4, imageHeight: 4, semImages: [] };
    // 10 µm pixels; B is 20 µm (2 px) to the -x side of A, so 2 px to the right, overlapping 2 columns
    const A = { name: 'A', x: 100, y: 0 }, B = { name: 'B', x: 80, y: 0 }, C = { name: 'C', x: 100, y: 40 };
    expect(placeTimaFields(m, [A, B, C]).placement).toEqual([{ name: 'A', u0: 0, v0: 0 }, { name: 'B', u0: 2, v0: 0 }, { name: 'C', u0: 0, v0: 4 }]);
    const s = stitchTimaFields(m, [
      { field: A, phases: new Array(16).fill(1) },
      { field: B, phases: new Array(16).fill(2) },
      { field: C, phases: new Array(16).fill(3) },
    ]);
    expect([s.width, s.height]).toEqual([6, 8]);
    // overlap columns 2, 3: column 2 is nearer A's centre (1.5) than B's (3.5)? |2-1.5|=0.5 vs |2-3.5|=1.5 → A
    expect(Array.from(s.labels.slice(0, 6))).toEqual([1, 1, 1, 2, 2, 2]);
    expect(Array.from(s.labels.slice(4 * 6, 5 * 6))).toEqual([3, 3, 3, 3, 0, 0]);
    expect(s.covered[4 * 6 + 5]).toBe(0);
  });

  it('recognises stage positions written in mm', () => {
    const m = { viewFieldUm: 1000, imageWidth: 100, imageHeight: 100, semImages: [] };
    const mm = [{ name: 'A', x: 2.5, y: -9.5 }, { name: 'B', x: 1.5, y: -9.5 }, { name: 'C', x: 2.5, y: -8.5 }];
    expect(placeTimaFields(m, mm).placement).toEqual([{ name: 'A', u0: 0, v0: 0 }, { name: 'B', u0: 100, v0: 0 }, { name: 'C', u0: 0, v0: 100 }]);
    const um = mm.map((f) => ({ ...f, x: f.x * 1000, y: f.y * 1000 }));
    expect(placeTimaFields(m, um).placement).toEqual(placeTimaFields(m, mm).placement);
    expect(placeTimaFields(m, [{ name: 'A', x: 3, y: 4 }]).placement).toEqual([{ name: 'A', u0: 0, v0: 0 }]);
  });
});

/** Agreement of classified pixels across field seams, for the neighbour taken at sx, sy field steps. */
function seamAgreement(map: MineralMap, placement: { u0: number; v0: number }[], W: number, H: number, sx: number, sy: number): number {
  const at = new Map(placement.map((p) => [`${p.u0},${p.v0}`, p]));
  let agree = 0, total = 0;
  const cmp = (i: number, j: number) => {
    const a = map.labels[i], b = map.labels[j];
    if (a && b) (total++, a === b && agree++);
  };
  for (const p of placement) {
    const r = at.get(`${p.u0 + sx * W},${p.v0}`);
    if (r) for (let v = 0; v < H; v++) cmp((p.v0 + v) * map.width + p.u0 + W - 1, (r.v0 + v) * map.width + r.u0);
    const d = at.get(`${p.u0},${p.v0 + sy * H}`);
    if (d) for (let u = 0; u < W; u++) cmp((p.v0 + H - 1) * map.width + p.u0 + u, d.v0 * map.width + d.u0 + u);
  }
  return agree / total;
}

describe.skipIf(!have)('TESCAN TIMA export (../shared/data/tima-sta)', () => {
  let map: MineralMap;
  let placement: { name: string; u0: number; v0: number }[];
  beforeAll(async () => {
    map = await importMineralMap({ map: TIMA });
    const m = parseTimaMeasurement(await readFile(join(TIMA, 'measurement.xml'), 'utf8'));
    placement = placeTimaFields(m, parseTimaFields(await readFile(join(TIMA, 'fields.xml'), 'utf8')).fields).placement;
  });

  it('stitches 308 fields of 83 px at 1000/83 µm into one map with a BSE mosaic', async () => {
    expect(map.pixelSizeUm).toBeCloseTo(1000 / 83, 9);
    expect([map.width, map.height]).toEqual([20 * 83, 20 * 83]);
    expect(placement).toHaveLength(308);
    expect(map.companions.map((c) => c.name)).toEqual(['BSE']);
    // each field lands unchanged where it was placed (no overlaps in this export)
    const p = placement.find((q) => q.name === 'J10')!;
    const bse = decode(await readFile(join(TIMA, 'fields/J10/bse.png')));
    for (const [u, v] of [[0, 0], [82, 0], [41, 40], [0, 82]]) expect(map.companions[0].data[(p.v0 + v) * map.width + p.u0 + u]).toBe(bse.data[v * 83 + u]);
    // the legend: phases of phases.xml that occur, with their ids and colours
    expect(map.legend.find((q) => q.name === 'Quartz')).toEqual({ id: 126, name: 'Quartz', color: [0x82, 0x82, 0x82] });
    expect(map.legend).toHaveLength(32);
    const counts = new Map<number, number>();
    for (const l of map.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const ranked = map.legend.map((q) => [q.name, counts.get(q.id) ?? 0] as const).sort((a, b) => b[1] - a[1]);
    expect(ranked.slice(0, 2).map((r) => r[0])).toEqual(['Hematite_Magnetite', 'Quartz']);
    // label 0 splits into "not measured" (no field covers it) and "unclassified" (measured, no mineral)
    const measured = 308 * 83 * 83;
    expect(map.measured).toBeDefined();
    expect(map.measured!.reduce((a, v) => a + v, 0)).toBe(measured);
    expect(notMeasuredFraction(map)).toBeCloseTo(1 - measured / map.labels.length, 12);
    const inFields = (unclassifiedFraction(map) * map.labels.length) / measured;
    console.log(`TIMA STA: ${map.width} x ${map.height} px, not measured ${(100 * notMeasuredFraction(map)).toFixed(1)} % of the rectangle, unclassified ${(100 * unclassifiedFraction(map)).toFixed(1)} % of it (${(100 * inFields).toFixed(1)} % of the measured fields)`);
    expect(inFields).toBeGreaterThan(0.03);
    expect(inFields).toBeLessThan(0.1);
    for (let i = 0; i < map.labels.length; i += 97) if (!map.measured![i]) expect(map.labels[i]).toBe(0);
  });

  it('neighbouring fields agree across their seams (stage axis directions are right)', () => {
    const W = 83, H = 83;
    const right = seamAgreement(map, placement, W, H, 1, 1);
    // reference: neighbouring columns inside the fields
    let agree = 0, total = 0;
    for (const p of placement) for (let v = 0; v < H; v++) {
      const i = (p.v0 + v) * map.width + p.u0 + 40;
      const a = map.labels[i], b = map.labels[i + 1];
      if (a && b) (total++, a === b && agree++);
    }
    const interior = agree / total;
    const wrongX = seamAgreement(map, placement, W, H, -1, 1), wrongY = seamAgreement(map, placement, W, H, 1, -1), wrongXY = seamAgreement(map, placement, W, H, -1, -1);
    console.log(`TIMA seam agreement ${(100 * right).toFixed(1)} % (inside fields ${(100 * interior).toFixed(1)} %; x flipped ${(100 * wrongX).toFixed(1)}, y flipped ${(100 * wrongY).toFixed(1)}, both ${(100 * wrongXY).toFixed(1)} %)`);
    expect(right).toBeGreaterThan(0.88);
    expect(right).toBeGreaterThan(interior - 0.03);
    for (const w of [wrongX, wrongY, wrongXY]) expect(w).toBeLessThan(right - 0.1);
  });

  describe('broken copies', () => {
    let copy: string;
    beforeAll(async () => {
      copy = join(await mkdtemp(join(tmpdir(), 'petromap-tima-')), 'STA');
      await cp(TIMA, copy, { recursive: true });
    });
    afterAll(async () => {
      await rm(join(copy, '..'), { recursive: true, force: true });
    });

    it('names a field folder listed in fields.xml but missing', async () => {
      await rm(join(copy, 'fields', 'C07'), { recursive: true, force: true, maxRetries: 2 });
      const err = await importMineralMap({ map: copy }).catch((e: unknown) => e);
      expect(isPetromapError(err, 'InvalidInput')).toBe(true);
      expect((err as Error).message).toMatch(/STA: field C07 is listed in fields\.xml but its folder fields\/C07 is missing/);
    });

    it('names phase ids used by a field but absent from phases.xml, and a legend passed needlessly', async () => {
      await cp(join(TIMA, 'fields', 'C07'), join(copy, 'fields', 'C07'), { recursive: true });
      const xml = await readFile(join(TIMA, 'phases.xml'), 'utf8');
      await writeFile(join(copy, 'phases.xml'), xml.replace(/<PrimaryPhase id="126"[^>]*>/, ''));
      const err = await importMineralMap({ map: copy }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/STA: fields\/\w+\/phases\.tif uses phase ids 126 that phases\.xml does not list/);
      const err2 = await importMineralMap({ map: copy, legend: join(TIMA, 'phases.xml') }).catch((e: unknown) => e);
      expect((err2 as Error).message).toMatch(/carries its own legend/);
    });
  });
});
