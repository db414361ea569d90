/**
 * Hostile EDS inputs through the readers added at stop 28 (engineer E): palette (indexed colour)
 * TIFF maps, whose colour map geotiff loads on demand from outside the page directory, and legends
 * in UTF-16. Run by tests/security/eds-inputs.test.ts with the cases of cases-eds.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostileCase } from './harness';
import { writeIfdEntries } from '../lib/eds/tiff-helper';

/**
 * An 8 x 8 8-bit palette TIFF (little-endian, one uncompressed strip of index `index`) whose ColorMap
 * tag declares `count` shorts at `offset` (default: a real 3 x 256 map right after the pixels).
 */
function paletteTiff(opts: { count?: number; offset?: number; index?: number } = {}): Buffer {
  const tags = 10;
  const ifd = 8;
  const pixels = ifd + 2 + tags * 12 + 4;
  const cmAt = pixels + 64;
  const out = Buffer.alloc(cmAt + 3 * 256 * 2);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(ifd, 4);
  out.fill(opts.index ?? 1, pixels, pixels + 64);
  for (let i = 0; i < 256; i++) (out.writeUInt16LE(0xec00, cmAt + 2 * i), out.writeUInt16LE(0xdc00, cmAt + 512 + 2 * i), out.writeUInt16LE(0xb400, cmAt + 1024 + 2 * i));
  const entries: [number, number, number, number][] = [
    [256, 3, 1, 8], [257, 3, 1, 8], [258, 3, 1, 8], [259, 3, 1, 1], [262, 3, 1, 3],
    [273, 4, 1, pixels], [277, 3, 1, 1], [278, 3, 1, 8], [279, 4, 1, 64], [320, 3, opts.count ?? 768, opts.offset ?? cmAt],
  ];
  out.writeUInt16LE(tags, ifd);
  writeIfdEntries(out, ifd, entries);
  return out;
}

async function edsWith(dir: string, map: Buffer, legend: string | Buffer = 'name,r,g,b\nQuartz,236,220,180\n'): Promise<string> {
  const input = join(dir, 'eds');
  await mkdir(input, { recursive: true });
  await writeFile(join(input, 'map.tif'), map);
  await writeFile(join(input, 'legend.csv'), legend);
  await writeFile(join(input, 'pixel.json'), JSON.stringify({ pixelSizeUm: 2 }));
  return input;
}

export const edsReaderCases: HostileCase[] = [
  { item: 3, kind: 'eds', name: 'palette TIFF whose ColorMap declares 2^28 values', make: (dir) => edsWith(dir, paletteTiff({ count: 1 << 28 })), expect: /map\.tif: a palette TIFF without its colour map/ },
  { item: 3, kind: 'eds', name: 'palette TIFF whose ColorMap lies beyond the end of the file', make: (dir) => edsWith(dir, paletteTiff({ offset: 0x7ffffff0 })), expect: /map\.tif: a palette TIFF without its colour map/ },
  { item: 3, kind: 'eds', name: 'palette TIFF whose ColorMap holds 2 colours for 8-bit indices of 200', make: (dir) => edsWith(dir, paletteTiff({ count: 6, index: 200 })), expect: /map\.tif: a pixel names palette colour 200 but the colour map holds 2; the file is damaged/ },
  {
    item: 10,
    kind: 'legend',
    name: 'UTF-16 legend (with BOM) of 5000 rows',
    make: (dir) => edsWith(dir, paletteTiff(), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`name,r,g,b\n${Array.from({ length: 5000 }, (_, k) => `M${k},${k % 256},${(k >> 8) % 256},7`).join('\n')}\n`, 'utf16le')])),
    expect: /legend.*(1,?000|rows|lines)/i,
  },
];
