/**
 * Hostile volume files (issue 12, items 1, 3 and 9): detached headers that point outside their
 * folder, impossible offsets, header-declared sizes far beyond memory or disk, TIFF decompression
 * bombs and truncated stacks. Each case writes its input under the folder it is given and names the
 * file to import; the importer must refuse it with a clean one-line message and write nothing.
 * Used by tests/security/volume-formats.test.ts and the fuzz benchmark.
 */
import { mkdir, open, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { deflatedZeros } from './bombs';
import { txmBytes, type TxmSpec } from '../../lib/volume/formats/txm-writer-node';
import type { HostileCase } from './harness';
import { writeIfdEntries } from '../lib/eds/tiff-helper';

// ---------------------------------------------------------------------------------------------
// small writers

/** One TIFF page: strips are given, or one blob shared by `count` strips (a bomb costs nothing on disk). */
export interface TiffPageSpec {
  width: number;
  height: number;
  bits: 8 | 16;
  rowsPerStrip: number;
  compression?: number;
  predictor?: number;
  strips: Buffer[] | { shared: Buffer; count: number };
}

/**
 * A little-endian classic TIFF. `ifdsFirst`: all page directories at the start of the file and the
 * pixel data after them (so a cut file still lists every page, and fails while reading a page).
 */
export function buildTiff(pages: TiffPageSpec[], opts: { ifdsFirst?: boolean } = {}): Buffer {
  const nTags = (p: TiffPageSpec) => 10 + (p.predictor ? 1 : 0);
  const stripCount = (p: TiffPageSpec) => (Array.isArray(p.strips) ? p.strips.length : p.strips.count);
  const ifdBytes = (p: TiffPageSpec) => 2 + nTags(p) * 12 + 4 + (stripCount(p) > 1 ? 8 * stripCount(p) : 0);
  const blobs = (p: TiffPageSpec) => (Array.isArray(p.strips) ? p.strips : [p.strips.shared]);
  const dataBytes = (p: TiffPageSpec) => blobs(p).reduce((s, b) => s + b.length, 0);
  // layout: header, then per page [ifd+arrays][data] or all ifds then all data
  const ifdAt: number[] = [];
  const dataAt: number[] = [];
  let pos = 8;
  if (opts.ifdsFirst) {
    for (const p of pages) (ifdAt.push(pos), (pos += ifdBytes(p)));
    for (const p of pages) (dataAt.push(pos), (pos += dataBytes(p)));
  } else {
    for (const p of pages) (ifdAt.push(pos), (pos += ifdBytes(p)), dataAt.push(pos), (pos += dataBytes(p)));
  }
  const out = Buffer.alloc(pos);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(ifdAt[0]!, 4);
  pages.forEach((p, k) => {
    const n = stripCount(p);
    const offsets: number[] = [];
    const counts: number[] = [];
    let d = dataAt[k]!;
    for (const b of blobs(p)) (b.copy(out, d), offsets.push(d), counts.push(b.length), (d += b.length));
    while (offsets.length < n) (offsets.push(offsets[0]!), counts.push(counts[0]!)); // shared blob
    const at = ifdAt[k]!;
    const arr = at + 2 + nTags(p) * 12 + 4;
    const tags: [number, number, number, number][] = [
      [256, 4, 1, p.width],
      [257, 4, 1, p.height],
      [258, 3, 1, p.bits],
      [259, 3, 1, p.compression ?? 1],
      [262, 3, 1, 1],
      [273, 4, n, n > 1 ? arr : offsets[0]!],
      [277, 3, 1, 1],
      [278, 4, 1, p.rowsPerStrip],
      [279, 4, n, n > 1 ? arr + 4 * n : counts[0]!],
      [339, 3, 1, 1],
    ];
    if (p.predictor) tags.push([317, 3, 1, p.predictor]);
    tags.sort((a, b) => a[0] - b[0]);
    out.writeUInt16LE(tags.length, at);
    writeIfdEntries(out, at, tags);
    out.writeUInt32LE(k + 1 < pages.length ? ifdAt[k + 1]! : 0, at + 2 + tags.length * 12);
    if (n > 1) for (let i = 0; i < n; i++) (out.writeUInt32LE(offsets[i]!, arr + 4 * i), out.writeUInt32LE(counts[i]!, arr + 4 * n + 4 * i));
  });
  return out;
}

const nrrdHeader = (lines: string[]) => `NRRD0004\n${lines.join('\n')}\n\n`;
const metaHeader = (lines: string[]) => `${['ObjectType = Image', 'NDims = 3', ...lines].join('\n')}\n`;

/** NIfTI-1 header (352 bytes) with the given dims (x, y, z), datatype and vox_offset, plus `body`. */
function nifti(dims: [number, number, number], datatype: number, bitpix: number, voxOffset: number, body: Buffer): Buffer {
  const h = Buffer.alloc(352);
  h.writeInt32LE(348, 0);
  [3, dims[0], dims[1], dims[2], 1, 1, 1, 1].forEach((d, i) => h.writeInt16LE(d, 40 + 2 * i));
  h.writeInt16LE(datatype, 70);
  h.writeInt16LE(bitpix, 72);
  [1, 0.001, 0.001, 0.001, 1, 1, 1, 1].forEach((v, i) => h.writeFloatLE(v, 76 + 4 * i));
  h.writeFloatLE(voxOffset, 108);
  h.writeUInt8(2, 123);
  h.write('n+1\0', 344, 'latin1');
  return Buffer.concat([h, body]);
}

async function folder(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A Zeiss .txm (issue 16) of nz slices of 8 x 6 uint16 voxels, written by the cfb package, changed by `spec`. */
function txm(file: string, nz: number, spec: Partial<TxmSpec> = {}, cut?: (b: Uint8Array) => Uint8Array) {
  return async (dir: string) => {
    const p = join(await folder(dir), file);
    const shape: [number, number, number] = [nz, 8, 12];
    const voxels = new Uint16Array(nz * 8 * 12).map((_, i) => i);
    const bytes = txmBytes({ shape, voxels, pixelSizeUm: 3, ...spec });
    await writeFile(p, cut ? cut(bytes) : bytes);
    return p;
  };
}

/** A file of `bytes` bytes that takes no space (sparse). */
async function sparse(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  await fh.truncate(bytes);
  await fh.close();
}

// ---------------------------------------------------------------------------------------------
// the cases

const NOT_PLAIN = /data file "[^"]*" is not allowed: it must be a plain file name in the same folder as the header/;
const LINK_OUT = /data file "data\.raw" is a link leading out of the header's folder/;
const MEMORY = /would need [\d.]+ [KMGT]i?B of memory to decode, more than the 512 MiB allowed \(PETROMAP_MAX_DECODE_MB\)/;
const OFFSET = (field: string) => new RegExp(`its ${field} must be a whole number ≥ 0.*the header is damaged`);

const nrrdDetached = (dataFile: string): HostileCase['make'] => async (dir) => {
  const d = await folder(dir);
  await writeFile(join(d, 'scan.nhdr'), nrrdHeader(['type: uint8', 'dimension: 3', 'sizes: 4 4 4', 'encoding: raw', `data file: ${dataFile}`]));
  return join(d, 'scan.nhdr');
};
const mhdDetached = (dataFile: string): HostileCase['make'] => async (dir) => {
  const d = await folder(dir);
  await writeFile(join(d, 'scan.mhd'), metaHeader(['DimSize = 4 4 4', 'ElementType = MET_UCHAR', `ElementDataFile = ${dataFile}`]));
  return join(d, 'scan.mhd');
};
/** data.raw next to the header is a link to `target` (outside the folder) */
const withLink = (make: (ref: string) => HostileCase['make'], target: string): HostileCase['make'] => async (dir) => {
  const d = await folder(dir);
  await symlink(target, join(d, 'data.raw'));
  return make('data.raw')(d);
};

export const volumeCases: HostileCase[] = [
  // item 1: a detached header must not read files outside its folder
  { item: 1, kind: 'volume', name: 'NRRD data file: /etc/passwd', make: nrrdDetached('/etc/passwd'), expect: NOT_PLAIN },
  { item: 1, kind: 'volume', name: 'NRRD data file: ../../x', make: nrrdDetached('../../x'), expect: NOT_PLAIN },
  { item: 1, kind: 'volume', name: 'NRRD data file: a link to /etc/passwd', make: withLink(nrrdDetached, '/etc/passwd'), expect: LINK_OUT },
  { item: 1, kind: 'volume', name: 'NRRD data file: a link to a missing file outside', make: withLink(nrrdDetached, '/etc/petromap-no-such-file'), expect: LINK_OUT },
  { item: 1, kind: 'volume', name: 'NRRD data file: a link to ../', make: withLink(nrrdDetached, '../outside.raw'), expect: LINK_OUT },
  { item: 1, kind: 'volume', name: 'MHD ElementDataFile: /etc/passwd', make: mhdDetached('/etc/passwd'), expect: NOT_PLAIN },
  { item: 1, kind: 'volume', name: 'MHD ElementDataFile: ../../x', make: mhdDetached('../../x'), expect: NOT_PLAIN },
  { item: 1, kind: 'volume', name: 'MHD ElementDataFile: a link to /etc/passwd', make: withLink(mhdDetached, '/etc/passwd'), expect: LINK_OUT },

  // item 1: offsets that are not whole numbers ≥ 0
  ...([
    ['NaN', NaN],
    ['negative', -4096],
  ] as const).map(([what, v]): HostileCase => ({
    item: 1,
    kind: 'volume',
    name: `NIfTI vox_offset ${what}`,
    make: async (dir) => {
      const p = join(await folder(dir), 'scan.nii');
      await writeFile(p, nifti([4, 4, 4], 2, 8, v, Buffer.alloc(64)));
      return p;
    },
    expect: OFFSET('vox_offset \\(where the voxels start\\)'),
  })),
  ...(['abc', '-5'] as const).map((v): HostileCase => ({
    item: 1,
    kind: 'volume',
    name: `NRRD byte skip ${v}`,
    make: async (dir) => {
      const p = join(await folder(dir), 'scan.nrrd');
      await writeFile(p, Buffer.concat([Buffer.from(nrrdHeader(['type: uint8', 'dimension: 3', 'sizes: 4 4 4', 'encoding: raw', `byte skip: ${v}`])), Buffer.alloc(64)]));
      return p;
    },
    expect: OFFSET('"byte skip"'),
  })),
  ...(['NaN', '-7'] as const).map((v): HostileCase => ({
    item: 1,
    kind: 'volume',
    name: `MHD HeaderSize ${v}`,
    make: async (dir) => {
      const d = await folder(dir);
      await writeFile(join(d, 'scan.raw'), Buffer.alloc(64));
      await writeFile(join(d, 'scan.mhd'), metaHeader(['DimSize = 4 4 4', 'ElementType = MET_UCHAR', `HeaderSize = ${v}`, 'ElementDataFile = scan.raw']));
      return join(d, 'scan.mhd');
    },
    expect: OFFSET('HeaderSize'),
  })),

  // item 3: header-declared sizes far beyond the memory budget
  {
    item: 3,
    kind: 'volume',
    name: 'NRRD declaring 10^6 x 10^6 x 10^6 voxels (gzip, so no size check against the file)',
    make: async (dir) => {
      const p = join(await folder(dir), 'scan.nrrd');
      await writeFile(p, Buffer.concat([Buffer.from(nrrdHeader(['type: uint16', 'dimension: 3', 'sizes: 1000000 1000000 1000000', 'encoding: gzip'])), deflateSync(Buffer.alloc(1024))]));
      return p;
    },
    expect: MEMORY,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'MHA declaring 10^6 x 10^6 x 10^6 voxels (zlib)',
    make: async (dir) => {
      const p = join(await folder(dir), 'scan.mha');
      const head = metaHeader(['CompressedData = True', 'DimSize = 1000000 1000000 1000000', 'ElementType = MET_FLOAT', 'ElementDataFile = LOCAL']);
      await writeFile(p, Buffer.concat([Buffer.from(head), deflateSync(Buffer.alloc(1024))]));
      return p;
    },
    expect: MEMORY,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'NIfTI .nii.gz declaring 32767^3 int16 voxels',
    make: async (dir) => {
      const { gzipSync } = await import('node:zlib');
      const p = join(await folder(dir), 'scan.nii.gz');
      await writeFile(p, gzipSync(nifti([32767, 32767, 32767], 4, 16, 352, Buffer.alloc(1024))));
      return p;
    },
    expect: MEMORY,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'TIFF bomb: 32768 x 32768 deflate page (512 strips sharing one 2 MiB-of-zeros blob)',
    make: async (dir) => {
      const p = join(await folder(dir), 'bomb.tif');
      const strip = await deflatedZeros(32768 * 64);
      await writeFile(p, buildTiff([{ width: 32768, height: 32768, bits: 8, rowsPerStrip: 64, compression: 8, strips: { shared: strip, count: 512 } }]));
      return p;
    },
    expect: MEMORY,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'TIFF bomb: one whole-page strip declared 1 MiB that inflates to 64 MiB',
    make: async (dir) => {
      const p = join(await folder(dir), 'strip-bomb.tif');
      const strip = await deflatedZeros(64 << 20);
      await writeFile(p, buildTiff([{ width: 1024, height: 1024, bits: 8, rowsPerStrip: 1024, compression: 8, strips: [strip] }]));
      return p;
    },
    expect: /strip-bomb\.tif: a compressed strip of page 1 of 1 unpacks to more data than the page's size allows/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'TIFF whose page list loops back on itself',
    make: async (dir) => {
      const p = join(await folder(dir), 'loop.tif');
      const b = buildTiff([{ width: 8, height: 8, bits: 8, rowsPerStrip: 8, strips: [Buffer.alloc(64)] }]);
      const first = b.readUInt32LE(4);
      b.writeUInt32LE(first, first + 2 + b.readUInt16LE(first) * 12); // next page = this page
      await writeFile(p, b);
      return p;
    },
    expect: /loop\.tif is damaged: its list of pages loops back on itself/,
  },
  {
    item: 3,
    kind: 'volume',
    // found by `npm run bench -- fuzz` (seed 1, mutant 38): geotiff read count x size bytes of a tag
    // before any check, 1.1 GiB for ImageWidth with a count of 2^28
    name: 'TIFF tag declaring 2^28 values (ImageWidth count lie)',
    make: async (dir) => {
      const p = join(await folder(dir), 'tag-count.tif');
      const b = buildTiff([{ width: 8, height: 8, bits: 8, rowsPerStrip: 8, strips: [Buffer.alloc(64)] }]);
      const first = b.readUInt32LE(4);
      for (let e = 0; e < b.readUInt16LE(first); e++) {
        const at = first + 2 + e * 12;
        if (b.readUInt16LE(at) === 256) b.writeUInt32LE(0x10000000, at + 4);
      }
      await writeFile(p, b);
      return p;
    },
    expect: /tag-count\.tif is damaged: tag 256 of page 1 declares 268,435,456 values, more than the file holds/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'truncated TIFF stack (fails while reading, after the store was started)',
    make: async (dir) => {
      const p = join(await folder(dir), 'cut.tif');
      const page = { width: 64, height: 64, bits: 16 as const, rowsPerStrip: 64, strips: [Buffer.alloc(64 * 64 * 2, 7)] };
      const b = buildTiff(Array.from({ length: 80 }, () => page), { ifdsFirst: true });
      await writeFile(p, b.subarray(0, b.length - 10 * 8192)); // the last ten pages are cut
      return p;
    },
    expect: /cut\.tif is truncated: the data of page 7\d of 80 lies beyond the end of the file/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'a volume too large for the disk (4 TiB, sparse data file)',
    make: async (dir) => {
      const d = await folder(dir);
      const nz = 1 << 20;
      await sparse(join(d, 'big.raw'), 2048 * 2048 * nz);
      await writeFile(join(d, 'big.nhdr'), nrrdHeader(['type: uint8', 'dimension: 3', `sizes: 2048 2048 ${nz}`, 'encoding: raw', 'data file: big.raw']));
      return join(d, 'big.nhdr');
    },
    expect: /Importing big\.nhdr .*needs about [\d.]+ GiB on disk but only [\d.]+ [KMGT]i?B is free/,
  },

  // item 9: what comes back is one short line
  {
    item: 9,
    kind: 'volume',
    name: 'NRRD with a 200 kB "type:" line',
    make: async (dir) => {
      const p = join(await folder(dir), 'long.nrrd');
      await writeFile(p, Buffer.concat([Buffer.from(nrrdHeader([`type: ${'x'.repeat(200_000)}`, 'dimension: 3', 'sizes: 4 4 4', 'encoding: raw'])), Buffer.alloc(64)]));
      return p;
    },
    expect: /^long\.nrrd: NRRD voxel type "x{30,40}…" is not supported/,
  },

  // issue 16: Zeiss .txm (OLE compound files) held to the same rules
  { item: 3, kind: 'volume', name: 'TXM without ImageInfo/ImageWidth', make: txm('nowidth.txm', 4, { info: { ImageWidth: null } }), expect: /^nowidth\.txm is not a Zeiss reconstruction we can read: it has no ImageInfo\/ImageWidth stream/ },
  { item: 3, kind: 'volume', name: 'TXM with slice 57 of 120 missing', make: txm('gap.txm', 120, { omitSlices: [57] }), expect: /^gap\.txm is incomplete: slice 57 of 120 \(stream ImageData1\/Image57\) is missing/ },
  { item: 3, kind: 'volume', name: 'TXM slice 103 shorter than ImageInfo says', make: txm('short.txm', 110, { replaceSlices: { 103: new Uint8Array(100) } }), expect: /^short\.txm is damaged: slice 103 \(stream ImageData2\/Image103\) holds 100 bytes but ImageInfo says 12 x 8 uint16 voxels \(192 bytes\)/ },
  { item: 3, kind: 'volume', name: 'TXM cut in half', make: txm('cut.txm', 150, {}, (b) => b.subarray(0, Math.floor(b.length / 2))), expect: /^cut\.txm is truncated/ },
  { item: 3, kind: 'volume', name: 'TXM declaring 1,000,000 x 1,000,000 slices', make: txm('huge.txm', 2, { info: { ImageWidth: 1e6, ImageHeight: 1e6 } }), expect: /^huge\.txm: one slice of 1000000 x 1000000 voxels would need [\d.]+ [GT]iB of memory to decode, more than the/ },
  { item: 3, kind: 'volume', name: 'TXM declaring 10 million slices', make: txm('many.txm', 2, { info: { NoOfImages: 1e7, ImagesTaken: null } }), expect: /^many\.txm is truncated: 10000000 slices of 12 x 8 uint16 voxels need/ },
  { item: 3, kind: 'volume', name: 'TXM with voxel type code 99', make: txm('type.txm', 2, { info: { DataType: 99 } }), expect: /^type\.txm: Zeiss voxel type code 99 \(ImageInfo\/DataType\) is not one we read/ },
  {
    item: 3,
    kind: 'volume',
    name: 'TXM whose directory chain loops',
    make: txm('loop.txm', 3, {}, (b) => {
      // the directory's first sector points at itself in the FAT
      const out = Buffer.from(b);
      const dir = out.readUInt32LE(48);
      const fat0 = out.readUInt32LE(76);
      out.writeUInt32LE(dir, (fat0 + 1) * 512 + 4 * dir);
      return out;
    }),
    expect: /^loop\.txm is damaged: the sector chain of the directory loops/,
  },
  { item: 3, kind: 'volume', name: 'TXRM projections', make: txm('scan.txrm', 3), expect: /^scan\.txrm holds Zeiss projections \(\.txrm\), not a reconstructed volume: reconstruct it first/ },
  { item: 3, kind: 'volume', name: 'a text file named .txm', make: async (dir) => { const p = join(await folder(dir), 'notes.txm'); await writeFile(p, 'x'.repeat(2000)); return p; }, expect: /^notes\.txm is not a Zeiss\/OLE compound file/ },
];
