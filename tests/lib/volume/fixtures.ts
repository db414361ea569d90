/**
 * Tiny fixture writers for the importer tests: multi-page uncompressed TIFF (one strip per page,
 * optional ImageJ description), MetaImage and NIfTI-1. Little endian unless asked.
 */
import { writeFile } from 'node:fs/promises';
import { gzipSync, deflateSync } from 'node:zlib';

type Pixels = Uint8Array | Uint16Array | Float32Array | Int16Array;

function sampleFormat(a: Pixels): number {
  return a instanceof Float32Array ? 3 : a instanceof Int16Array ? 2 : 1;
}

/** pages: one array of ny*nx per page */
export function tiffBytes(pages: Pixels[], ny: number, nx: number, opts: { description?: string; xResolution?: number } = {}): Buffer {
  const bps = pages[0]!.BYTES_PER_ELEMENT * 8;
  const pageBytes = ny * nx * pages[0]!.BYTES_PER_ELEMENT;
  const desc = opts.description !== undefined ? Buffer.from(opts.description + '\0', 'latin1') : null;
  const nTags = 10 + (desc ? 1 : 0) + (opts.xResolution ? 3 : 0);
  const ifdSize = 2 + nTags * 12 + 4;
  const extraPerPage = 16; // two rationals
  const parts: Buffer[] = [];
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8, 4);
  parts.push(header);
  let offset = 8;
  for (let p = 0; p < pages.length; p++) {
    const ifdOff = offset;
    const extraOff = ifdOff + ifdSize;
    const descOff = extraOff + extraPerPage;
    const dataOff = descOff + (p === 0 && desc ? desc.length : 0);
    const next = dataOff + pageBytes;
    const tags: [number, number, number, number][] = [
      [256, 4, 1, nx],
      [257, 4, 1, ny],
      [258, 3, 1, bps],
      [259, 3, 1, 1],
      [262, 3, 1, 1],
      [273, 4, 1, dataOff],
      [277, 3, 1, 1],
      [278, 4, 1, ny],
      [279, 4, 1, pageBytes],
      [339, 3, 1, sampleFormat(pages[p]!)],
    ];
    if (p === 0 && desc) tags.push([270, 2, desc.length, descOff]);
    else if (desc) tags.push([270, 2, 1, 0]);
    if (opts.xResolution) tags.push([282, 5, 1, extraOff], [283, 5, 1, extraOff + 8], [296, 3, 1, 1]);
    tags.sort((a, b) => a[0] - b[0]);
    const ifd = Buffer.alloc(ifdSize + extraPerPage);
    ifd.writeUInt16LE(tags.length, 0);
    tags.forEach(([tag, type, count, value], i) => {
      const o = 2 + i * 12;
      ifd.writeUInt16LE(tag, o);
      ifd.writeUInt16LE(type, o + 2);
      ifd.writeUInt32LE(count, o + 4);
      if (type === 3 && count === 1) ifd.writeUInt16LE(value, o + 8);
      else if (type === 2 && count <= 4) ifd.writeUInt8(0, o + 8);
      else ifd.writeUInt32LE(value, o + 8);
    });
    ifd.writeUInt32LE(p === pages.length - 1 ? 0 : next, 2 + tags.length * 12);
    if (opts.xResolution) {
      // rational = num/den; resolution in pixels per unit (unit from ImageJ description)
      ifd.writeUInt32LE(Math.round(opts.xResolution * 1e6), ifdSize);
      ifd.writeUInt32LE(1e6, ifdSize + 4);
      ifd.writeUInt32LE(Math.round(opts.xResolution * 1e6), ifdSize + 8);
      ifd.writeUInt32LE(1e6, ifdSize + 12);
    }
    parts.push(ifd);
    if (p === 0 && desc) parts.push(desc);
    const px = pages[p]!;
    parts.push(Buffer.from(px.buffer, px.byteOffset, px.byteLength));
    offset = next;
  }
  return Buffer.concat(parts);
}

export async function writeTiff(path: string, pages: Pixels[], ny: number, nx: number, opts?: { description?: string; xResolution?: number }) {
  await writeFile(path, tiffBytes(pages, ny, nx, opts));
}

const MET: Record<string, string> = { Uint8Array: 'MET_UCHAR', Uint16Array: 'MET_USHORT', Int16Array: 'MET_SHORT', Float32Array: 'MET_FLOAT' };

/** MetaImage: .mha (data inline) or .mhd + .raw */
export async function writeMeta(path: string, data: Pixels, shape: [number, number, number], spacing: [number, number, number], opts: { compressed?: boolean; dataFile?: string; bigEndian?: boolean } = {}) {
  let body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (opts.bigEndian) {
    body = Buffer.from(body);
    if (data.BYTES_PER_ELEMENT === 2) body.swap16();
    if (data.BYTES_PER_ELEMENT === 4) body.swap32();
  }
  if (opts.compressed) body = deflateSync(body);
  const header = [
    'ObjectType = Image',
    'NDims = 3',
    `BinaryDataByteOrderMSB = ${opts.bigEndian ? 'True' : 'False'}`,
    `CompressedData = ${opts.compressed ? 'True' : 'False'}`,
    ...(opts.compressed ? [`CompressedDataSize = ${body.length}`] : []),
    'Offset = 1 2 3',
    `ElementSpacing = ${spacing[2]} ${spacing[1]} ${spacing[0]}`,
    `DimSize = ${shape[2]} ${shape[1]} ${shape[0]}`,
    `ElementType = ${MET[data.constructor.name]}`,
    `ElementDataFile = ${opts.dataFile ?? 'LOCAL'}`,
    '',
  ].join('\n');
  if (opts.dataFile) {
    await writeFile(path, header);
    await writeFile(path.replace(/[^/]*$/, opts.dataFile), body);
  } else {
    await writeFile(path, Buffer.concat([Buffer.from(header, 'latin1'), body]));
  }
}

/** NIfTI-1 single file (.nii or .nii.gz) */
export async function writeNifti(path: string, data: Pixels, shape: [number, number, number], spacingMm: [number, number, number], opts: { slope?: number; inter?: number } = {}) {
  const h = Buffer.alloc(352);
  h.writeInt32LE(348, 0);
  const dims = [3, shape[2], shape[1], shape[0], 1, 1, 1, 1];
  dims.forEach((d, i) => h.writeInt16LE(d, 40 + 2 * i));
  const code = data instanceof Uint8Array ? 2 : data instanceof Int16Array ? 4 : data instanceof Uint16Array ? 512 : 16;
  h.writeInt16LE(code, 70);
  h.writeInt16LE(data.BYTES_PER_ELEMENT * 8, 72);
  [1, spacingMm[2], spacingMm[1], spacingMm[0], 1, 1, 1, 1].forEach((v, i) => h.writeFloatLE(v, 76 + 4 * i));
  h.writeFloatLE(352, 108);
  h.writeFloatLE(opts.slope ?? 0, 112);
  h.writeFloatLE(opts.inter ?? 0, 116);
  h.writeUInt8(2, 123); // mm
  h.write('n+1\0', 344, 'latin1');
  const buf = Buffer.concat([h, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  await writeFile(path, path.endsWith('.gz') ? gzipSync(buf) : buf);
}
