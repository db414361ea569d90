/**
 * Hostile EDS inputs (issue 12, items 3, 4, 9, 10): map bombs, TESCAN TIMA exports that reach out
 * of their folder or declare absurd mosaics and XML, and legends without bounds. Each case writes its
 * input under the folder it is given; tests/security/eds-inputs.test.ts and `npm run bench -- fuzz`
 * run them through runCaseInChild.
 */
import { mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDeflate, crc32 } from 'node:zlib';
import { encode } from 'fast-png';
import { tiffBytes } from '../lib/eds/tiff-helper';
import type { HostileCase } from './harness';

const MiB = 2 ** 20;

/** zlib stream of `n` zero bytes, built in 1 MiB pieces (a 268 MB bomb is ~260 KB). */
export async function deflateZeros(n: number): Promise<Uint8Array> {
  const d = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => (d.on('end', resolve), d.on('error', reject)));
  const zero = Buffer.alloc(MiB);
  for (let left = n; left > 0; left -= MiB) {
    if (!d.write(left >= MiB ? zero : zero.subarray(0, left))) await new Promise((r) => d.once('drain', r));
  }
  d.end();
  await done;
  return new Uint8Array(Buffer.concat(out));
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG with the given header and compressed image data (no check that they agree). */
export function pngWith(width: number, height: number, colourType: number, depth: number, idat: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = depth;
  ihdr[9] = colourType;
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', new Uint8Array(0))];
  return new Uint8Array(Buffer.concat(parts));
}

/** A deflate-compressed 8-bit grey TIFF whose strips all point at one small compressed block of zeros. */
async function tiffBomb(width: number, height: number, rowsPerStrip: number, stripBytes = width * rowsPerStrip): Promise<Uint8Array> {
  const strip = await deflateZeros(stripBytes);
  const nStrips = Math.ceil(height / rowsPerStrip);
  const nTags = 9;
  const ifd = 8, ifdSize = 2 + nTags * 12 + 4;
  const offsetsAt = ifd + ifdSize, countsAt = offsetsAt + 4 * nStrips, dataAt = countsAt + 4 * nStrips;
  const out = new Uint8Array(dataAt + strip.length);
  const dv = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  dv.setUint32(4, ifd, true);
  dv.setUint16(ifd, nTags, true);
  const tags: [number, number, number, number][] = [
    [256, 4, 1, width], [257, 4, 1, height], [258, 3, 1, 8], [259, 3, 1, 8], [262, 3, 1, 1],
    [273, 4, nStrips, offsetsAt], [277, 3, 1, 1], [278, 4, 1, rowsPerStrip], [279, 4, nStrips, countsAt],
  ];
  tags.forEach(([tag, type, count, value], k) => {
    const o = ifd + 2 + k * 12;
    dv.setUint16(o, tag, true);
    dv.setUint16(o + 2, type, true);
    dv.setUint32(o + 4, count, true);
    if (type === 3 && count === 1) dv.setUint16(o + 8, value, true);
    else dv.setUint32(o + 8, value, true);
  });
  for (let s = 0; s < nStrips; s++) dv.setUint32(offsetsAt + 4 * s, dataAt, true), dv.setUint32(countsAt + 4 * s, strip.length, true);
  out.set(strip, dataAt);
  return out;
}

const QUARTZ = [236, 220, 180];

/** A small valid colour map (quartz everywhere) with its legend and pixel size. */
async function edsFolder(dir: string, legend: string | Uint8Array = 'name,r,g,b\nQuartz,236,220,180\n', map?: Uint8Array): Promise<string> {
  const input = join(dir, 'eds');
  await mkdir(input, { recursive: true });
  const data = new Uint8Array(8 * 8 * 3);
  for (let i = 0; i < 64; i++) data.set(QUARTZ, i * 3);
  await writeFile(join(input, 'map.png'), map ?? encode({ width: 8, height: 8, data, channels: 3, depth: 8 }));
  await writeFile(join(input, 'legend.csv'), legend);
  await writeFile(join(input, 'pixel.json'), JSON.stringify({ pixelSizeUm: 2 }));
  return input;
}

interface TimaSpec {
  measurement?: string;
  fields?: string;
  phases?: string;
  /** field folders to write under fields/ (4 x 4 px phases.tif + bse.png each), default ['A1'] */
  fieldNames?: string[];
  size?: number;
}

const measurementXml = (size: number, viewField: number, semFile = 'bse.png') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ExportedMeasurementData xmlns="http://www.tescan.cz/tima/1_4"><ViewField>${viewField}</ViewField><ImageWidth>${size}</ImageWidth><ImageHeight>${size}</ImageHeight>` +
  `<SemImages><SemImage><FileName>${semFile}</FileName><Caption>BSE</Caption></SemImage></SemImages></ExportedMeasurementData>\n`;
const fieldsXml = (fieldDir: string, fields: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ExportedMeasurementFields xmlns="http://www.tescan.cz/tima/1_4"><FieldDir>${fieldDir}</FieldDir><Fields>${fields}</Fields></ExportedMeasurementFields>\n`;
const PHASES = '<?xml version="1.0" encoding="UTF-8"?>\n<ExportedMeasurementPhases><PrimaryPhases><PrimaryPhase id="0" name="[Unclassified]" color="#000000"/><PrimaryPhase id="1" name="Quartz" color="#ecdcb4"/></PrimaryPhases></ExportedMeasurementPhases>\n';

async function fieldImages(folder: string, size: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'phases.tif'), tiffBytes(size, size, new Uint8Array(size * size).fill(1)));
  await writeFile(join(folder, 'bse.png'), encode({ width: size, height: size, data: new Uint8Array(size * size).fill(100), channels: 1, depth: 8 }));
}

/** A TESCAN TIMA export folder `dir/tima` (one 4 x 4 px field A1 unless told otherwise). */
export async function timaFolder(dir: string, spec: TimaSpec = {}): Promise<string> {
  const root = join(dir, 'tima');
  const size = spec.size ?? 4;
  await mkdir(join(root, 'fields'), { recursive: true });
  await writeFile(join(root, 'measurement.xml'), spec.measurement ?? measurementXml(size, 10 * size));
  await writeFile(join(root, 'fields.xml'), spec.fields ?? fieldsXml('fields', '<Field name="A1" x="0" y="0"/>'));
  await writeFile(join(root, 'phases.xml'), spec.phases ?? PHASES);
  for (const name of spec.fieldNames ?? ['A1']) await fieldImages(join(root, 'fields', name), size);
  return root;
}

export const edsCases: HostileCase[] = [
  // ------------------------------------------------------------------ item 3: map bombs
  {
    item: 3,
    name: 'PNG bomb: 16384 x 16384 grey PNG of ~260 KB',
    kind: 'eds',
    async make(dir) {
      const png = pngWith(16384, 16384, 0, 8, await deflateZeros(16384 * (1 + 16384)));
      return edsFolder(dir, undefined, png);
    },
    expect: /map\.png is 16384 x 16384 pixels \(268 megapixels\), more than the 100 megapixels/,
  },
  {
    item: 3,
    name: 'PNG inflate bomb: 64 x 64 header, image data unpacking to 300 MB',
    kind: 'eds',
    async make(dir) {
      return edsFolder(dir, undefined, pngWith(64, 64, 2, 8, await deflateZeros(300e6)));
    },
    expect: /map\.png: the PNG's compressed data unpacks to more than its declared size/,
  },
  {
    item: 3,
    name: 'TIFF map bomb: 16384 x 16384 deflate TIFF whose 256 strips share one block',
    kind: 'eds',
    async make(dir) {
      const input = await edsFolder(dir);
      const { rm } = await import('node:fs/promises');
      await rm(join(input, 'map.png'));
      await writeFile(join(input, 'map.tif'), await tiffBomb(16384, 16384, 64));
      return input;
    },
    expect: /map\.tif is 16384 x 16384 pixels .*more than the 100 megapixels/,
  },
  {
    item: 3,
    name: 'TIFF map whose 512 KiB strips inflate to 64 MiB each (the header size is honest, the strips lie)',
    kind: 'eds',
    async make(dir) {
      const input = await edsFolder(dir);
      const { rm } = await import('node:fs/promises');
      await rm(join(input, 'map.png'));
      await writeFile(join(input, 'map.tif'), await tiffBomb(1024, 1024, 512, 64 << 20)); // 2 strips: tiffBomb writes strip arrays
      return input;
    },
    expect: /map\.tif: a compressed strip of the TIFF unpacks to more data than the image's size allows/,
  },
  {
    item: 9,
    name: 'wrong legend: colours in the map that the legend does not list',
    kind: 'eds',
    async make(dir) {
      const data = new Uint8Array(16 * 16 * 3);
      const colours = [QUARTZ, [255, 0, 0], [0, 255, 0], [0, 0, 255]];
      for (let i = 0; i < 256; i++) data.set(colours[i % 4], i * 3);
      return edsFolder(dir, 'name,r,g,b\nQuartz,236,220,180\n', encode({ width: 16, height: 16, data, channels: 3, depth: 8 }));
    },
    expect: /EDS map map\.png: 3 colours in the map are not in the legend legend\.csv \(192 pixels, 75\.00 %\): #ff0000 \(64 px, first at column 1, row 0\).*Add them to the legend/,
  },
  // ------------------------------------------------------------------ item 10: legends
  {
    item: 10,
    name: 'legend with 10^6 rows (15 MB)',
    kind: 'legend',
    async make(dir) {
      const rows = Array.from({ length: 1e6 }, (_, i) => `Mineral${i},${i & 255},${(i >> 8) & 255},${(i >> 16) & 255}`);
      return edsFolder(dir, `name,r,g,b\n${rows.join('\n')}\n`);
    },
    expect: /Legend legend\.csv is \d+ MiB, more than the 1 MiB a legend may have \(PETROMAP_MAX_LEGEND_KB\)/,
  },
  {
    item: 10,
    name: 'legend with 10^5 short rows inside the byte limit',
    kind: 'legend',
    async make(dir) {
      const rows = Array.from({ length: 1e5 }, (_, i) => `m${i % 100000},1,2,3`);
      return edsFolder(dir, `${rows.join('\n')}\n`.slice(0, 1000 * 1024));
    },
    expect: /Legend legend\.csv has \d+ or more entries, more than the 1000 minerals a legend may list/,
  },
  {
    item: 10,
    name: 'legend with one 50 MB line',
    kind: 'legend',
    async make(dir) {
      return edsFolder(dir, `name,r,g,b\nQuartz${'x'.repeat(50e6)},1,2,3\n`);
    },
    expect: /Legend legend\.csv is 48 MiB, more than the 1 MiB/,
  },
  {
    item: 10,
    name: 'legend with a 5000-character mineral name',
    kind: 'legend',
    async make(dir) {
      return edsFolder(dir, `name,r,g,b\nQuartz,236,220,180\n${'Q'.repeat(5000)},1,2,3\n`);
    },
    expect: /Legend legend\.csv, line 3: the mineral name "Q+…" is 5000 characters long, more than the 100 allowed/,
  },
  // ------------------------------------------------------------------ item 4: TESCAN TIMA
  {
    item: 4,
    name: "TIMA FieldDir '../outside' reads field images outside the export",
    kind: 'tima',
    async make(dir) {
      await fieldImages(join(dir, 'outside', 'A1'), 4);
      return timaFolder(dir, { fields: fieldsXml('../outside', '<Field name="A1" x="0" y="0"/>'), fieldNames: [] });
    },
    expect: /field folder <FieldDir> in fields\.xml is a path that climbs out with '\.\.'/,
  },
  {
    item: 4,
    name: 'TIMA SemImage/FileName is an absolute path',
    kind: 'tima',
    async make(dir) {
      await fieldImages(join(dir, 'secret'), 4);
      return timaFolder(dir, { measurement: measurementXml(4, 40, join(dir, 'secret', 'bse.png')) });
    },
    expect: /the SEM image <FileName> in measurement\.xml \(for fields\/A1\) is an absolute path; petromap only reads files inside the export folder/,
  },
  {
    item: 4,
    name: 'TIMA field folder is a symlink out of the export',
    kind: 'tima',
    async make(dir) {
      await fieldImages(join(dir, 'elsewhere', 'A1'), 4);
      const root = await timaFolder(dir, { fieldNames: [] });
      await symlink(join(dir, 'elsewhere', 'A1'), join(root, 'fields', 'A1'));
      return root;
    },
    expect: /the folder of field A1 is a link that points outside the export folder/,
  },
  {
    item: 4,
    name: 'TIMA phases.tif is a symlink to a file outside the export',
    kind: 'tima',
    async make(dir) {
      await fieldImages(join(dir, 'elsewhere'), 4);
      const root = await timaFolder(dir, { fieldNames: [] });
      await mkdir(join(root, 'fields', 'A1'));
      await symlink(join(dir, 'elsewhere', 'phases.tif'), join(root, 'fields', 'A1', 'phases.tif'));
      return root;
    },
    expect: /fields\/A1\/phases\.tif is a link that points outside the export folder/,
  },
  {
    item: 4,
    name: 'TIMA: two 1-pixel fields 8 mm apart (an 8001 x 8001 mosaic)',
    kind: 'tima',
    async make(dir) {
      return timaFolder(dir, {
        size: 1,
        measurement: measurementXml(1, 1),
        fields: fieldsXml('fields', '<Field name="A1" x="0" y="0"/><Field name="A2" x="8000" y="8000"/>'),
        fieldNames: ['A1', 'A2'],
      });
    },
    expect: /2 fields of 1 x 1 pixels are spread over a mosaic of 8001 x 8001 pixels/,
  },
  {
    item: 4,
    name: 'TIMA fields.xml with 100 001 fields',
    kind: 'tima',
    async make(dir) {
      const fields = Array.from({ length: 100_001 }, (_, i) => `<Field name="F${i}" x="${(i % 300) * 40}" y="${Math.floor(i / 300) * 40}"/>`).join('');
      return timaFolder(dir, { fields: fieldsXml('fields', fields) });
    },
    expect: /fields\.xml lists more than 100000 fields, more than petromap imports from one export \(PETROMAP_MAX_TIMA_FIELDS\)/,
  },
  {
    item: 4,
    name: 'TIMA measurement.xml nested 200 000 deep',
    kind: 'tima',
    async make(dir) {
      return timaFolder(dir, { measurement: `<?xml version="1.0"?>${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}` });
    },
    expect: /measurement\.xml is not valid XML \(its elements nest too deeply\)/,
  },
  {
    item: 4,
    name: 'TIMA measurement.xml of 1 MB unclosed elements (quadratic for regex parsing)',
    kind: 'tima',
    async make(dir) {
      return timaFolder(dir, { measurement: `<?xml version="1.0"?><ExportedMeasurementData>${'<SemImage><FileName>a'.repeat(50_000)}` });
    },
    expect: /measurement\.xml is not valid XML \(some elements are not closed\)/,
  },
  {
    item: 4,
    name: 'TIMA fields.xml larger than the XML limit (65 MiB)',
    kind: 'tima',
    async make(dir) {
      const root = await timaFolder(dir);
      await truncate(join(root, 'fields.xml'), 65 * MiB);
      return root;
    },
    expect: /fields\.xml is 65 MiB, more than the 64 MiB petromap reads \(PETROMAP_MAX_XML_MB\)/,
  },
  {
    item: 4,
    name: 'TIMA phases.xml with an entity expansion bomb',
    kind: 'tima',
    async make(dir) {
      const ents = Array.from({ length: 10 }, (_, k) => `<!ENTITY e${k + 1} "${`&e${k};`.repeat(10)}">`).join('');
      return timaFolder(dir, { phases: `<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e0 "lol">${ents}]><P><PrimaryPhase id="1" name="&e10;" color="#000000"/></P>` });
    },
    expect: /phases\.xml declares a DOCTYPE or entities/,
  },
];
