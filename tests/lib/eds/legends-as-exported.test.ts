/**
 * Phase maps and legends as people export them: legends saved by spreadsheets (Windows-1252,
 * UTF-16 "Unicode text", UTF-8 with BOM, semicolons, Windows line ends, quoted "R,G,B", names with
 * spaces and unicode), a colour the legend lacks (named with its pixels), and JPEG-damaged maps,
 * which are refused saying why (petromap does not snap near colours).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMineralMap } from '../../../lib/eds/import-node';
import { decodeLegendBytes, parseLegend } from '../../../lib/eds/legend';
import { tiffBytes, writeIfdEntries } from './tiff-helper';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-legends-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

const PHASES: [string, [number, number, number]][] = [
  ['Quarz µ', [255, 255, 0]],
  ['K-feldspar', [255, 0, 255]],
  ['Albit (Na‑Plag)', [0, 200, 255]],
  ['Clay (illite)', [0, 128, 0]],
];
const W = 40;
const H = 30;
/** 10 x 10 px blocks of the four phases, cycling */
const phaseAt = (x: number, y: number) => (Math.floor(x / 10) + Math.floor(y / 10)) % 4;

function mapPng(colourAt: (x: number, y: number) => [number, number, number]): Uint8Array {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set(colourAt(x, y), (y * W + x) * 3);
  return encode({ width: W, height: H, data, channels: 3, depth: 8 });
}
const exact = mapPng((x, y) => PHASES[phaseAt(x, y)]![1]);

function windows1252(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => (ch === 'µ' ? 0xb5 : ch.charCodeAt(0) < 128 ? ch.charCodeAt(0) : 0x3f));
}
function utf16le(s: string, bom: boolean): Uint8Array {
  const b = Buffer.from(s, 'utf16le');
  return bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), b]) : b;
}

describe('legend files as spreadsheets save them', () => {
  const text = 'Mineral;R;G;B\r\n' + PHASES.map(([n, c]) => `${n};${c.join(';')}\r\n`).join('');

  it('decodes UTF-8 (BOM), UTF-16 with and without a BOM, and Windows-1252', () => {
    const utf8bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    for (const bytes of [utf8bom, utf16le(text, true), utf16le(text, false), Buffer.from('\ufeff' + text, 'utf16le').swap16()]) {
      expect(decodeLegendBytes(bytes).replace(/^\ufeff/, '')).toBe(text);
    }
    const ascii = text.replace('Albit (Na‑Plag)', 'Albit (Na-Plag)');
    expect(decodeLegendBytes(windows1252(ascii))).toBe(ascii);
  });

  it('reads semicolons, Windows line ends, quoted "R,G,B", hex with and without #, and trims names', () => {
    const quoted = 'Mineral,RGB\n' + PHASES.map(([n, c]) => `"${n} ","${c.join(',')}"\n`).join('');
    const hex = 'Phase,Colour\n' + PHASES.map(([n, c], i) => `${n},${i % 2 ? '#' : ''}${c.map((v) => v.toString(16).padStart(2, '0').toUpperCase()).join('')}\n`).join('');
    for (const t of [text, quoted, hex]) {
      const l = parseLegend(t, 'legend.csv');
      expect(l.phases.map((p) => [p.name, p.color])).toEqual(PHASES);
    }
  });

  it('a Windows-1252 and a UTF-16 legend import with their names intact', async () => {
    const map = await file('map.png', exact);
    const ascii = text.replace('Albit (Na‑Plag)', 'Albit (Na-Plag)');
    for (const [name, bytes] of [['ansi.csv', windows1252(ascii)], ['unicode.txt', utf16le(text.replace(/;/g, '\t'), true)]] as const) {
      const m = await importMineralMap({ map, legend: await file(name, bytes), pixelSizeUm: 2 });
      expect(m.legend.map((p) => p.name)).toEqual(PHASES.map(([n]) => (name === 'ansi.csv' ? n.replace('‑', '-') : n)));
      expect(Array.from(new Set(m.labels))).toHaveLength(4);
    }
  });
});

describe('maps whose colours the legend lacks', () => {
  const legendText = 'name,r,g,b\n' + PHASES.map(([n, c]) => `${n},${c.join(',')}\n`).join('');

  it('one foreign colour: says which colour, how many pixels and where the first is', async () => {
    const map = await file('extra.png', mapPng((x, y) => (x < 5 && y < 3 ? [10, 20, 30] : PHASES[phaseAt(x, y)]![1])));
    await expect(importMineralMap({ map, legend: await file('l.csv', legendText), pixelSizeUm: 2 })).rejects.toThrow(
      /1 colour in the map is not in the legend l\.csv \(15 pixels, 1\.25 %\): #0a141e \(15 px, first at column 0, row 0\)\. Add them to the legend/,
    );
  });

  it('a map whose colours JPEG moved by a few levels is refused saying so, not snapped', async () => {
    // every pixel off by 1-3 levels in one channel, as after JPEG (and no colour exact)
    const map = await file('from-jpeg.png', mapPng((x, y) => PHASES[phaseAt(x, y)]![1].map((v, k) => (k === (x + y) % 3 ? Math.abs(v - 1 - ((x * y) % 3)) : v)) as [number, number, number]));
    const err = importMineralMap({ map, legend: await file('l2.csv', legendText), pixelSizeUm: 2 });
    await expect(err).rejects.toThrow(/its colours are no longer exact\. \d+ colours are not in the legend l2\.csv \(\d+ px, [\d.]+ %\), \d+ px of them within 12 levels of a legend colour \(#[0-9a-f]{6} is [1-3] levels? from /);
    await expect(err).rejects.toThrow(/petromap does not give a pixel a near colour's mineral: export the map again as PNG or TIFF/);
  });

  it('a .jpg map and a JPEG-compressed TIFF are refused saying why', async () => {
    const legend = await file('l3.csv', legendText);
    await expect(importMineralMap({ map: await file('map.jpg', new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), legend, pixelSizeUm: 2 })).rejects.toThrow(
      /map\.jpg is a JPEG: JPEG compression changes a phase map's colours .* Export the phase map again from the EDS software as PNG or TIFF/,
    );
    const tif = tiffBytes(4, 4, new Uint8Array(48), { spp: 3 });
    // Compression (259) is the third tag: set it to 7 (JPEG)
    const view = new DataView(tif.buffer, tif.byteOffset);
    for (let i = 0, n = view.getUint16(8, true); i < n; i++) if (view.getUint16(10 + i * 12, true) === 259) view.setUint16(10 + i * 12 + 8, 7, true);
    await expect(importMineralMap({ map: await file('jpeg.tif', tif), legend, pixelSizeUm: 2 })).rejects.toThrow(/the TIFF is JPEG-compressed, which changes a phase map's colours/);
  });

  it('a palette (indexed colour) TIFF, as phase-map exports save it, reads through its colour map', async () => {
    const legend = await file('l4.csv', 'name,r,g,b\n' + PHASES.map(([n, c]) => `${n},${c.join(',')}\n`).join(''));
    const m = await importMineralMap({ map: await file('indexed.tif', paletteTiff()), legend, pixelSizeUm: 2 });
    expect(m.legend.map((p) => p.name)).toEqual(PHASES.map(([n]) => n));
    let wrong = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (m.labels[y * W + x] !== phaseAt(x, y) + 1) wrong++;
    expect(wrong).toBe(0);
  });
});

/** An 8-bit palette TIFF (photometric 3) of the phase blocks: index = phase, ColorMap 3 x 256 shorts outside the directory. */
function paletteTiff(): Uint8Array {
  const tags: [number, number, number, number][] = [];
  const ifdAt = 8, nTags = 10, cmAt = ifdAt + 2 + nTags * 12 + 4, dataAt = cmAt + 3 * 256 * 2;
  tags.push([256, 3, 1, W], [257, 3, 1, H], [258, 3, 1, 8], [259, 3, 1, 1], [262, 3, 1, 3], [273, 4, 1, dataAt], [277, 3, 1, 1], [278, 3, 1, H], [279, 4, 1, W * H], [320, 3, 768, cmAt]);
  const b = Buffer.alloc(dataAt + W * H);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(ifdAt, 4);
  b.writeUInt16LE(nTags, ifdAt);
  writeIfdEntries(b, ifdAt, tags);
  PHASES.forEach(([, c], k) => c.forEach((v, ch) => b.writeUInt16LE(v * 257, cmAt + (ch * 256 + k) * 2)));
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) b[dataAt + y * W + x] = phaseAt(x, y);
  return b;
}
