/**
 * Checks of a TIFF before its pixels are decoded: the chain of pages is walked and capped, and each
 * page's compression, strip/tile size and strip positions are checked against the file and budget.
 */
import * as fs from 'node:fs';
import { fromFile, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { invalidInput, unsupported } from '../../errors';
import { checkDecodeBudget, safeMessage, type Limits } from '../../limits';
import { shown } from './header-checks-node';
import { fileSize, readHead } from './resolve-data-file-node';
import { loadTagArray, tagArray } from './tiff-tags-node';

/** Compressions read with a bounded decoder (the others are refused). */
const TIFF_COMPRESSIONS: Record<number, string> = { 1: 'none', 5: 'LZW', 8: 'Deflate', 32946: 'Deflate', 32773: 'PackBits' };

export interface TiffPageLayout {
  /** width and height of one strip or tile */
  blockW: number;
  blockH: number;
  compression: number;
  bytesPerPixel: number;
  /** the file's byte order */
  littleEndian: boolean;
}

/**
 * Checks one page before any pixel is decoded: the compression is one we bound, one strip/tile
 * fits the decode budget, the page lists as many strips/tiles as its size needs and they all lie
 * inside the file.
 */
export async function checkTiffPage(image: GeoTIFFImage, fileBytes: number, name: string, page: number, pages: number, limits: Limits): Promise<TiffPageLayout> {
  const where = `page ${page + 1}${pages > 1 ? ` of ${pages}` : ''}`;
  const w = image.getWidth();
  const h = image.getHeight();
  if (!(Number.isInteger(w) && w >= 1 && Number.isInteger(h) && h >= 1)) throw invalidInput(`${name}: ${where} declares an impossible size; the file is damaged.`);
  const compression = Number(tagArray(image, 'Compression')?.[0] ?? 1);
  if (!TIFF_COMPRESSIONS[compression]) {
    throw unsupported(`${name}: TIFF compression ${shown(String(compression), 12)} is not supported (none, LZW, Deflate, PackBits); re-save the stack uncompressed.`);
  }
  const bytesPerPixel = Math.ceil(image.getBitsPerSample() / 8);
  const blockW = image.getTileWidth();
  const blockH = image.getTileHeight();
  if (!(Number.isInteger(blockW) && blockW >= 1 && Number.isInteger(blockH) && blockH >= 1)) {
    throw invalidInput(`${name}: ${where} declares an impossible strip or tile size; the file is damaged.`);
  }
  checkDecodeBudget(`${name}: one ${image.isTiled ? 'tile' : 'strip'} of ${where} (${blockW} x ${blockH} pixels)`, blockW * blockH * bytesPerPixel, limits);
  const blocks = Math.ceil(w / blockW) * Math.ceil(h / blockH);
  const offs = (await loadTagArray(image, image.isTiled ? 'TileOffsets' : 'StripOffsets', name)) ?? [];
  const counts = (await loadTagArray(image, image.isTiled ? 'TileByteCounts' : 'StripByteCounts', name)) ?? [];
  if (offs.length < blocks || counts.length < blocks) {
    throw invalidInput(`${name} is damaged: ${where} lists ${Math.min(offs.length, counts.length)} ${image.isTiled ? 'tiles' : 'strips'} but its size needs ${blocks}.`);
  }
  for (let i = 0; i < blocks; i++) {
    const o = offs[i]!;
    const c = counts[i]!;
    if (!(Number.isFinite(o) && o >= 0 && Number.isFinite(c) && c >= 0)) throw invalidInput(`${name} is damaged: ${where} has an impossible strip position.`);
    if (o + c > fileBytes) {
      throw invalidInput(
        `${name} is truncated: the data of ${where} lies beyond the end of the file (${fileBytes.toLocaleString('en')} bytes). ` +
          `The file was probably cut short while copying; copy it again.`,
      );
    }
  }
  return { blockW, blockH, compression, bytesPerPixel, littleEndian: image.littleEndian !== false };
}

/** Pages beyond this are refused before geotiff parses them (it keeps the directory of every page read). */
export const MAX_TIFF_PAGES = 100_000;

/**
 * Counts the pages by walking the chain of page directories (offsets only, a few bytes each):
 * a chain that loops, leaves the file or is longer than MAX_TIFF_PAGES is refused here.
 */
/** Bytes per value of each TIFF field type (TIFF 6.0 and BigTIFF); unknown types are left to the decoder. */
const TIFF_TYPE_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };
/** More tags than any real page carries (baseline TIFF has ~40, OME and ImageJ add a handful). */
const MAX_TIFF_TAGS = 4096;

async function countTiffPages(path: string, size: number, name: string): Promise<number> {
  const fh = await fs.promises.open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    await fh.read(head, 0, 16, 0);
    const le = head.toString('latin1', 0, 2) === 'II';
    const big = (le ? head.readUInt16LE(2) : head.readUInt16BE(2)) === 43;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    let off = big ? u64(head, 8) : u32(head, 4);
    const seen = new Set<number>();
    const buf = Buffer.alloc(8);
    let n = 0;
    const cut = () =>
      invalidInput(
        n === 0
          ? `${name} is damaged or truncated: its first page lies beyond the end of the file. Copy the file again.`
          : `${name} is damaged or truncated after page ${n}: the next page lies beyond the end of the file. Copy the file again.`,
      );
    while (off !== 0) {
      if (seen.has(off)) throw invalidInput(`${name} is damaged: its list of pages loops back on itself after page ${n}.`);
      if (off < 8 || off + (big ? 8 : 2) > size) throw cut();
      seen.add(off);
      if (++n > MAX_TIFF_PAGES) throw invalidInput(`${name} has more than ${MAX_TIFF_PAGES.toLocaleString('en')} pages; split the stack into smaller files or a folder of slices.`);
      await fh.read(buf, 0, big ? 8 : 2, off);
      const entries = big ? u64(buf, 0) : u16(buf, 0);
      const nextAt = off + (big ? 8 + entries * 20 : 2 + entries * 12);
      if (nextAt + (big ? 8 : 4) > size) throw cut();
      if (entries > MAX_TIFF_TAGS) throw invalidInput(`${name} is damaged: page ${n} declares ${entries} tags (real files have fewer than ${MAX_TIFF_TAGS}).`);
      // every tag's values must lie inside the file: geotiff reads count x size bytes for a tag
      // before anything else could check it (a count of 2^28 took the import to 1.1 GiB)
      const ifd = Buffer.alloc(entries * (big ? 20 : 12));
      await fh.read(ifd, 0, ifd.length, off + (big ? 8 : 2));
      for (let e = 0; e < entries; e++) {
        const at = e * (big ? 20 : 12);
        const tag = u16(ifd, at);
        const bytesPer = TIFF_TYPE_BYTES[u16(ifd, at + 2)] ?? 0;
        const count = big ? u64(ifd, at + 4) : u32(ifd, at + 4);
        const bytes = count * bytesPer;
        if (bytes <= (big ? 8 : 4)) continue; // the values sit in the entry itself
        const valuesAt = big ? u64(ifd, at + 12) : u32(ifd, at + 8);
        if (bytes > size || valuesAt + bytes > size) {
          throw invalidInput(`${name} is damaged: tag ${tag} of page ${n} declares ${count.toLocaleString('en')} values, more than the file holds. Copy or export the file again.`);
        }
      }
      await fh.read(buf, 0, big ? 8 : 4, nextAt);
      off = big ? u64(buf, 0) : u32(buf, 0);
    }
    if (n === 0) throw invalidInput(`${name} is a TIFF file without any page.`);
    return n;
  } finally {
    await fh.close();
  }
}

export async function openGeoTiff(path: string, name: string): Promise<{ tiff: GeoTIFF; size: number; pages: number }> {
  const size = await fileSize(path, name);
  const head = await readHead(path, 4);
  const magic = head.toString('latin1');
  if (magic !== 'II*\0' && magic !== 'MM\0*' && magic !== 'II+\0' && magic !== 'MM\0+') throw invalidInput(`${name} is not a TIFF file.`);
  const pages = await countTiffPages(path, size, name);
  try {
    return { tiff: await fromFile(path), size, pages };
  } catch (err) {
    throw invalidInput(`${name} is not a readable TIFF file (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
  }
}
