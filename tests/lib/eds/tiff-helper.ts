/** Minimal uncompressed little-endian TIFF writer for test fixtures (one strip). */
export function tiffBytes(
  width: number,
  height: number,
  data: Uint8Array | Uint16Array | Int32Array | Float32Array,
  opts: { spp?: number; photometric?: number; sampleFormat?: number } = {},
): Uint8Array {
  const spp = opts.spp ?? 1;
  const bps = data.BYTES_PER_ELEMENT * 8;
  const sampleFormat = opts.sampleFormat ?? (data instanceof Int32Array ? 2 : data instanceof Float32Array ? 3 : 1);
  const photometric = opts.photometric ?? (spp >= 3 ? 2 : 1);
  const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const entries: IfdEntry[] = []; // tag, type, count, value/offset
  const nTags = 10;
  const ifdOffset = 8;
  const ifdSize = 2 + nTags * 12 + 4;
  let extra = ifdOffset + ifdSize;
  const bpsOffset = extra;
  if (spp > 2) extra += 2 * spp;
  const dataOffset = extra;
  entries.push([256, 4, 1, width], [257, 4, 1, height]);
  entries.push([258, 3, spp, spp > 2 ? bpsOffset : bps]);
  entries.push([259, 3, 1, 1], [262, 3, 1, photometric], [273, 4, 1, dataOffset], [277, 3, 1, spp]);
  entries.push([278, 4, 1, height], [279, 4, 1, pixels.length], [339, 3, 1, sampleFormat]);
  const out = new Uint8Array(dataOffset + pixels.length);
  const dv = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  dv.setUint32(4, ifdOffset, true);
  dv.setUint16(ifdOffset, nTags, true);
  writeIfdEntries(out, ifdOffset, entries);
  dv.setUint32(ifdOffset + 2 + nTags * 12, 0, true);
  if (spp > 2) for (let k = 0; k < spp; k++) dv.setUint16(bpsOffset + 2 * k, bps, true);
  out.set(pixels, dataOffset);
  return out;
}

/** A TIFF directory's entries (tag, type, count, value or offset), little-endian, from `at + 2`
 * (the entry count at `at` is the caller's); a SHORT with count 1 is stored in the value's first 2 bytes. */
export type IfdEntry = [tag: number, type: number, count: number, value: number];
export function writeIfdEntries(out: Uint8Array, at: number, entries: readonly IfdEntry[]): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  entries.forEach(([tag, type, count, value], i) => {
    const o = at + 2 + i * 12;
    dv.setUint16(o, tag, true);
    dv.setUint16(o + 2, type, true);
    dv.setUint32(o + 4, count, true);
    if (type === 3 && count === 1) dv.setUint16(o + 8, value, true);
    else dv.setUint32(o + 8, value, true);
  });
}
