import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { writeArrayBuffer } from 'geotiff';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMineralMap } from '../../../lib/eds/import-node';
import { unclassifiedFraction } from '../../../lib/eds/types';
import { isPetromapError } from '../../../lib/errors';
import { generateSandstone } from '../../../lib/synthetic';
import { writeSyntheticSample } from '../../../lib/synthetic/write-sample-node';
import { tiffBytes } from './tiff-helper';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-eds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array | ArrayBuffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content instanceof ArrayBuffer ? new Uint8Array(content) : content);
  return p;
}

async function rejects(p: Promise<unknown>, tag = 'InvalidInput'): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(isPetromapError(e), String(e)).toBe(true);
    expect((e as { _tag: string })._tag).toBe(tag);
    return (e as Error).message;
  }
  throw new Error('expected the import to fail');
}

const LEGEND = 'name,r,g,b\nQuartz,236,220,180\nPyrite,255,230,0\n';

/** 4 x 3 RGB image from a list of colours */
function rgbPng(px: number[][], width = 4, channels = 3): Uint8Array {
  return encode({ width, height: px.length / width, data: Uint8Array.from(px.flat()), channels, depth: 8 });
}

describe('importMineralMap: synthetic sample', () => {
  it('imports eds-map.png + eds-legend.csv + bse.png written by writeSyntheticSample, labels equal', async () => {
    const sample = generateSandstone({ shape: [24, 48, 48], seed: 3, eds: { unclassifiedFraction: 0.03 } });
    const sdir = join(dir, 'sample');
    const files = await writeSyntheticSample(sdir, sample);
    const map = await importMineralMap({
      map: join(sdir, files.edsMap),
      legend: join(sdir, files.legend),
      companions: [{ name: 'BSE', path: join(sdir, files.bse) }],
      pixelSizeUm: sample.eds.pixelSizeUm,
    });
    expect([map.width, map.height]).toEqual([sample.eds.width, sample.eds.height]);
    expect(map.legend).toEqual(sample.eds.legend);
    expect(Buffer.from(map.labels.buffer).equals(Buffer.from(sample.eds.labels.buffer))).toBe(true);
    expect(unclassifiedFraction(map)).toBeCloseTo(unclassifiedFraction(sample.eds), 10);
    expect(unclassifiedFraction(map)).toBeGreaterThan(0.01);
    // the BSE companion is the synthetic one up to the 16-bit stretch: perfectly correlated
    const a = map.companions[0].data, b = sample.eds.companions.find((c) => c.name === 'BSE')!.data;
    expect(map.companions[0].name).toBe('BSE');
    let ma = 0, mb = 0;
    for (let i = 0; i < a.length; i++) (ma += a[i]), (mb += b[i]);
    (ma /= a.length), (mb /= b.length);
    let sab = 0, saa = 0, sbb = 0;
    for (let i = 0; i < a.length; i++) (sab += (a[i] - ma) * (b[i] - mb)), (saa += (a[i] - ma) ** 2), (sbb += (b[i] - mb) ** 2);
    expect(sab / Math.sqrt(saa * sbb)).toBeGreaterThan(0.9999);
  });
});

describe('importMineralMap: colour maps', () => {
  const Q = [236, 220, 180], P = [255, 230, 0], K = [0, 0, 0];

  it('maps colours to legend ids; black is unclassified', async () => {
    const png = await file('ok.png', rgbPng([Q, P, K, Q, Q, Q, P, P, K, K, Q, P]));
    const map = await importMineralMap({ map: png, legend: await file('legend.csv', LEGEND), pixelSizeUm: 2 });
    expect(Array.from(map.labels)).toEqual([1, 2, 0, 1, 1, 1, 2, 2, 0, 0, 1, 2]);
    expect(map.pixelSizeUm).toBe(2);
    expect(map.source).toBe('ok.png');
  });

  it('treats transparent pixels as unclassified and a legend "Background" (the resin) as a phase; black can be a mineral', async () => {
    const W = [255, 255, 255];
    const png = await file('rgba.png', rgbPng([[...Q, 255], [...P, 0], [...W, 255], [...K, 255]], 4, 4));
    const legend = await file('legend-bg.csv', 'name,r,g,b\nQuartz,236,220,180\nPyrite,255,230,0\nBackground,255,255,255\nMagnetite,0,0,0\n');
    const map = await importMineralMap({ map: png, legend, pixelSizeUm: 1 });
    expect(Array.from(map.labels)).toEqual([1, 0, 3, 4]);
    expect(map.legend.map((p) => p.name)).toEqual(['Quartz', 'Pyrite', 'Background', 'Magnetite']);
  });

  it('reads an RGB TIFF and takes the pixel size from its resolution tag', async () => {
    const px = [Q, P, K, Q, P, P];
    const tif = writeArrayBuffer(Uint8Array.from(px.flat()), {
      width: 3, height: 2, SamplesPerPixel: 3, BitsPerSample: [8, 8, 8], PhotometricInterpretation: 2,
      XResolution: [5000, 1], YResolution: [5000, 1], ResolutionUnit: 3,
    } as never);
    const map = await importMineralMap({ map: await file('map.tif', tif), legend: await file('legend.csv', LEGEND) });
    expect(Array.from(map.labels)).toEqual([1, 2, 0, 1, 2, 2]);
    expect(map.pixelSizeUm).toBeCloseTo(2, 6); // 5000 px/cm
  });

  it('lists colours missing from the legend as #rrggbb with counts and the first position', async () => {
    const X = [12, 34, 56], Y = [200, 0, 0];
    const png = await file('bad.png', rgbPng([Q, X, X, Q, Q, Y, Q, Q]));
    const msg = await rejects(importMineralMap({ map: png, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }));
    expect(msg).toContain('bad.png');
    expect(msg).toContain('legend.csv');
    expect(msg).toContain('#0c2238 (2 px, first at column 1, row 0)');
    expect(msg).toContain('#c80000 (1 px, first at column 1, row 1)');
  });

  it('rejects a legend with a duplicate colour', async () => {
    const png = await file('ok2.png', rgbPng([Q, P, Q, P]));
    const legend = await file('dup.csv', 'name,r,g,b\nQuartz,236,220,180\nCalcite,236,220,180\n');
    const msg = await rejects(importMineralMap({ map: png, legend, pixelSizeUm: 1 }));
    expect(msg).toMatch(/dup\.csv.*"Quartz".*"Calcite".*#ecdcb4/);
  });

  it('needs a pixel size, a legend, a PNG/TIFF extension and a non-empty file', async () => {
    const png = await file('nopx.png', rgbPng([Q, P, Q, P]));
    expect(await rejects(importMineralMap({ map: png, legend: await file('legend.csv', LEGEND) }))).toMatch(/nopx\.png.*pixel size is unknown.*--pixel-um/);
    expect(await rejects(importMineralMap({ map: png, pixelSizeUm: 1 }))).toMatch(/nopx\.png needs its legend/);
    expect(await rejects(importMineralMap({ map: png, legend: await file('legend.csv', LEGEND), pixelSizeUm: -1 }))).toMatch(/positive/);
    const jpg = await file('map.jpg', Uint8Array.of(0xff, 0xd8, 0xff, 0xe0));
    expect(await rejects(importMineralMap({ map: jpg, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }))).toMatch(/map\.jpg is a JPEG: .*as PNG or TIFF/);
    const bmp = await file('map.bmp', Uint8Array.of(0x42, 0x4d, 0, 0));
    expect(await rejects(importMineralMap({ map: bmp, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }))).toMatch(/map\.bmp.*PNG or TIFF.*\.bmp/);
    const empty = await file('empty.png', '');
    expect(await rejects(importMineralMap({ map: empty, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }))).toMatch(/empty\.png is empty/);
    const emptyLegend = await file('empty.csv', '');
    expect(await rejects(importMineralMap({ map: png, legend: emptyLegend, pixelSizeUm: 1 }))).toMatch(/empty\.csv is empty/);
    const garbage = await file('garbage.png', 'not an image at all');
    expect(await rejects(importMineralMap({ map: garbage, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }))).toMatch(/garbage\.png is neither a PNG nor a TIFF/);
    const truncated = await file('trunc.png', rgbPng([Q, P, Q, P]).slice(0, 40));
    expect(await rejects(importMineralMap({ map: truncated, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }))).toMatch(/trunc\.png/);
    expect(await rejects(importMineralMap({ map: join(dir, 'nope.png'), legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }), 'NotFound')).toMatch(/nope\.png does not exist/);
    expect(await rejects(importMineralMap({ map: dir, pixelSizeUm: 1 }))).toMatch(/not a TESCAN TIMA export/);
  });

  it('rejects a companion image of another size, naming both sizes', async () => {
    const png = await file('map4.png', rgbPng([Q, P, Q, P]));
    const bse = await file('bse-small.png', encode({ width: 2, height: 2, data: new Uint8Array(4), channels: 1, depth: 8 }));
    const msg = await rejects(importMineralMap({ map: png, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1, companions: [{ name: 'BSE', path: bse }] }));
    expect(msg).toMatch(/bse-small\.png.*2 x 2.*4 x 1/);
  });
});

describe('importMineralMap: other encodings', () => {
  it('reads a palette (indexed-colour) PNG as a colour map', async () => {
    const palette = [[0, 0, 0], [236, 220, 180], [255, 230, 0]];
    const png = encode({ width: 3, height: 1, data: Uint8Array.of(2, 1, 0), channels: 1, depth: 8, palette } as never);
    const map = await importMineralMap({ map: await file('pal.png', png), legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 });
    expect(Array.from(map.labels)).toEqual([2, 1, 0]);
  });

  it('reads a greyscale image whose legend colours are grey levels as a colour map', async () => {
    const png = encode({ width: 3, height: 1, data: Uint8Array.of(200, 0, 100), channels: 1, depth: 8 });
    const legend = await file('grey.csv', 'name,r,g,b\nQuartz,100,100,100\nPyrite,200,200,200\n');
    const map = await importMineralMap({ map: await file('grey.png', png), legend, pixelSizeUm: 1 });
    expect(Array.from(map.labels)).toEqual([2, 0, 1]);
  });

  it('stops when the signal is aborted, and reports progress', async () => {
    const png = await file('abort.png', encode({ width: 2, height: 1, data: Uint8Array.of(236, 220, 180, 255, 230, 0), channels: 3, depth: 8 }));
    const ac = new AbortController();
    ac.abort();
    expect(await rejects(importMineralMap({ map: png, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }, { signal: ac.signal }), 'Aborted')).toMatch(/cancelled/);
    const seen: number[] = [];
    await importMineralMap({ map: png, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }, { onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });
});

describe('importMineralMap: label images', () => {
  const legend = 'id,name,r,g,b\n0,Unclassified,0,0,0\n3,Quartz,236,220,180\n7,Pyrite,255,230,0\n9,Not analysed,50,50,50\n';

  it('reads a 16-bit label PNG with an id legend (0 and "Not analysed" → unclassified)', async () => {
    const png = await file('labels.png', encode({ width: 3, height: 2, data: Uint16Array.of(3, 7, 0, 9, 3, 3), channels: 1, depth: 16 }));
    const map = await importMineralMap({ map: png, legend: await file('ids.csv', legend), pixelSizeUm: 0.5 });
    expect(Array.from(map.labels)).toEqual([3, 7, 0, 0, 3, 3]);
    expect(map.legend.map((p) => p.id)).toEqual([3, 7]);
  });

  it('reads an int32 label TIFF', async () => {
    const tif = tiffBytes(2, 2, Int32Array.of(7, 7, 3, 0));
    const map = await importMineralMap({ map: await file('labels.tif', tif), legend: await file('ids.csv', legend), pixelSizeUm: 1 });
    expect(Array.from(map.labels)).toEqual([7, 7, 3, 0]);
  });

  it('rejects a floating-point label TIFF and reads a float TIFF companion', async () => {
    const tif = tiffBytes(2, 1, Float32Array.of(3.5, 7));
    expect(await rejects(importMineralMap({ map: await file('float.tif', tif), legend: await file('ids.csv', legend), pixelSizeUm: 1 }))).toMatch(/float\.tif.*whole-number/);
    const map = await importMineralMap({
      map: await file('labels3.tif', tiffBytes(2, 1, Int32Array.of(3, 7))),
      legend: await file('ids.csv', legend),
      pixelSizeUm: 1,
      companions: [{ name: 'Fe', path: await file('fe.tif', tif) }],
    });
    expect(Array.from(map.companions[0].data)).toEqual([3.5, 7]);
  });

  it('lists label values absent from the legend; needs ids in the legend', async () => {
    const png = await file('labels2.png', encode({ width: 3, height: 1, data: Uint8Array.of(3, 12, 40), channels: 1, depth: 8 }));
    const msg = await rejects(importMineralMap({ map: png, legend: await file('ids.csv', legend), pixelSizeUm: 1 }));
    expect(msg).toMatch(/labels2\.png: pixel values 12 \(1 px, first at column 1, row 0\), 40 .*ids\.csv/);
    const msg2 = await rejects(importMineralMap({ map: png, legend: await file('legend.csv', LEGEND), pixelSizeUm: 1 }));
    expect(msg2).toMatch(/single-channel label image.*id,name,r,g,b/);
  });
});
