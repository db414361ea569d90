import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMineralMap, mineralAreaFractions, renderCompanionPng, renderMineralMapPng, saveMineralMap } from '../../../lib/eds/store-node';
import type { MineralMap } from '../../../lib/eds/types';
import { isPetromapError } from '../../../lib/errors';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-eds-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sampleMap(): MineralMap {
  const width = 5, height = 4, n = width * height;
  const labels = Uint16Array.from({ length: n }, (_, i) => [0, 1, 1, 7, 1][i % 5]);
  const bse = Float32Array.from({ length: n }, (_, i) => i * 10);
  return {
    width, height, pixelSizeUm: 2.5, labels,
    legend: [{ id: 1, name: 'Quartz', color: [236, 220, 180] }, { id: 7, name: 'Pyrite', color: [255, 230, 0] }, { id: 9, name: 'Calcite', color: [1, 2, 3] }],
    companions: [{ name: 'BSE', data: bse }, { name: 'Fe/Kα', data: new Float32Array(n).fill(0.5) }],
    source: 'sample.png',
  };
}

describe('saveMineralMap / loadMineralMap', () => {
  it('round-trips exactly and writes map.json with area fractions', async () => {
    const map = sampleMap();
    const d = join(dir, 'a', 'eds');
    await saveMineralMap(d, map);
    const back = await loadMineralMap(d);
    expect(back).toEqual(map);
    const j = JSON.parse(await readFile(join(d, 'map.json'), 'utf8'));
    expect(j).toMatchObject({ width: 5, height: 4, pixelSizeUm: 2.5, source: 'sample.png', unclassifiedFraction: 0.2 });
    expect(j.legend.map((p: { areaFraction: number }) => p.areaFraction)).toEqual([0.6, 0.2, 0]);
    expect(j.companions.map((c: { name: string }) => c.name)).toEqual(['BSE', 'Fe/Kα']);
    expect((await readFile(join(d, 'labels.u16'))).length).toBe(40);
    expect([...(await readFile(join(d, 'labels.u16'))).subarray(6, 8)]).toEqual([7, 0]); // little-endian
    expect((await readdir(join(dir, 'a'))).sort()).toEqual(['eds']);
  });

  it('replaces a stored map atomically and leaves it intact when saving fails', async () => {
    const d = join(dir, 'b');
    await saveMineralMap(d, sampleMap());
    const m2 = { ...sampleMap(), pixelSizeUm: 4 };
    await saveMineralMap(d, m2);
    expect((await loadMineralMap(d)).pixelSizeUm).toBe(4);
    const broken = { ...sampleMap(), labels: new Uint16Array(3) };
    const err = await saveMineralMap(d, broken).catch((e: unknown) => e);
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect((await loadMineralMap(d)).pixelSizeUm).toBe(4);
    expect(await readdir(dir)).not.toContain(expect.stringMatching(/partial|old/));
    expect((await readdir(dir)).filter((f) => /partial|old/.test(f))).toEqual([]);
  });

  it('says what is wrong with a missing or damaged store', async () => {
    const e1 = await loadMineralMap(join(dir, 'none')).catch((e: unknown) => e);
    expect(isPetromapError(e1, 'NotFound')).toBe(true);
    const d = join(dir, 'c');
    await saveMineralMap(d, sampleMap());
    await writeFile(join(d, 'labels.u16'), new Uint8Array(7));
    const e2 = await loadMineralMap(d).catch((e: unknown) => e);
    expect((e2 as Error).message).toMatch(/damaged: labels\.u16 \(phase labels\) has 7 bytes, expected 40/);
  });
});

describe('renders and area fractions', () => {
  it('mineralAreaFractions gives each legend phase its share of all pixels', () => {
    expect([...mineralAreaFractions(sampleMap())]).toEqual([[1, 0.6], [7, 0.2], [9, 0]]);
  });

  it('renderMineralMapPng paints legend colours, unclassified black', () => {
    const png = decode(renderMineralMapPng(sampleMap()));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([5, 4, 3, 8]);
    expect(Array.from(png.data.slice(0, 12))).toEqual([0, 0, 0, 236, 220, 180, 236, 220, 180, 255, 230, 0]);
  });

  it('renderCompanionPng stretches 0.5–99.5 percentiles to 0–255', () => {
    const n = 40 * 50;
    const map: MineralMap = { ...sampleMap(), width: 40, height: 50, labels: new Uint16Array(n) };
    const d = Float32Array.from({ length: n }, (_, i) => i);
    d[7] = 1e6; // outliers would crush a min–max stretch
    d[8] = -1e6;
    map.companions = [{ name: 'BSE', data: d }, { name: 'Fe/Kα', data: new Float32Array(n) }];
    const png = decode(renderCompanionPng(map, 'bse'));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([40, 50, 1, 8]);
    expect(png.data[7]).toBe(255);
    expect(png.data[8]).toBe(0);
    expect(png.data[0]).toBe(0);
    expect(png.data[n - 1]).toBe(255);
    expect(Math.abs(png.data[n / 2] - 128)).toBeLessThanOrEqual(2);
    expect(() => renderCompanionPng(map, 'Si')).toThrow(/no companion image "Si".*BSE, Fe\/Kα/);
  });
});
