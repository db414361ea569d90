/**
 * Write a small multi-page uint16 TIFF (one page per z slice) in memory, and a truncated copy of
 * it, the way a copy interrupted mid-transfer looks: header and first IFD intact, pixel data and
 * later IFDs cut off.
 * Layout per page: pixel strip, then its IFD (tags sorted, as TIFF 6.0 requires).
 */
export function makeTiffStack(width = 48, height = 40, depth = 6) {
  const entries = 9;
  const ifdSize = 2 + entries * 12 + 4;
  const pageBytes = width * height * 2;
  const buf = Buffer.alloc(8 + depth * (pageBytes + ifdSize));
  buf.write('II', 0, 'latin1');
  buf.writeUInt16LE(42, 2);
  let off = 8;
  let prevNext = 4; // where the offset of the next IFD is written
  for (let z = 0; z < depth; z++) {
    const strip = off;
    for (let i = 0; i < width * height; i++) buf.writeUInt16LE((i * 37 + z * 1000) % 65535, strip + 2 * i);
    off += pageBytes;
    const ifd = off;
    buf.writeUInt32LE(ifd, prevNext);
    buf.writeUInt16LE(entries, ifd);
    const tags = [
      [256, 3, 1, width], // ImageWidth
      [257, 3, 1, height], // ImageLength
      [258, 3, 1, 16], // BitsPerSample
      [259, 3, 1, 1], // Compression: none
      [262, 3, 1, 1], // Photometric: BlackIsZero
      [273, 4, 1, strip], // StripOffsets
      [277, 3, 1, 1], // SamplesPerPixel
      [278, 3, 1, height], // RowsPerStrip
      [279, 4, 1, pageBytes], // StripByteCounts
    ];
    tags.forEach(([tag, type, count, value], k) => {
      const e = ifd + 2 + k * 12;
      buf.writeUInt16LE(tag, e);
      buf.writeUInt16LE(type, e + 2);
      buf.writeUInt32LE(count, e + 4);
      if (type === 3) buf.writeUInt16LE(value, e + 8);
      else buf.writeUInt32LE(value, e + 8);
    });
    prevNext = ifd + 2 + entries * 12;
    buf.writeUInt32LE(0, prevNext);
    off += ifdSize;
  }
  return buf;
}

/** The first `fraction` of a TIFF stack's bytes. */
export function makeTruncatedTiff(fraction = 0.4) {
  const full = makeTiffStack();
  return full.subarray(0, Math.floor(full.length * fraction));
}
