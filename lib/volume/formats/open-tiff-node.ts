/** Multi-page TIFF stacks (one page per slice). */
import type { GeoTIFFImage } from 'geotiff';
import { invalidInput, unsupported } from '../../errors';
import { DEFAULT_LIMITS, safeMessage } from '../../limits';
import { fileByteReader, SOURCE_BYTES, VoxelDecoder } from '../byte-readers-node';
import { checkTiffPage, openGeoTiff } from './check-tiff-page-node';
import { describe, sliceStackReader, streamReader } from './describe-volume-node';
import { checkShape } from './header-checks-node';
import { readTiffPage } from './read-tiff-page-node';
import { imageJInfo, loadTagArray, omeTiffPlanes, tagArray, tiffDescription, tiffSourceType, tiffSpacing } from './tiff-tags-node';
import type { OpenOptions, VolumeReader } from './volume-reader';

/**
 * Where the first page's pixels start when they lie in one uncompressed run (the strips back to back,
 * `pageBytes` in all), as ImageJ writes them; undefined otherwise.
 */
async function contiguousImageJData(first: GeoTIFFImage, pageBytes: number, name: string): Promise<number | undefined> {
  if (Number(tagArray(first, 'Compression')?.[0] ?? 1) !== 1 || first.isTiled) return undefined;
  const offs = (await loadTagArray(first, 'StripOffsets', name)) ?? [];
  const counts = (await loadTagArray(first, 'StripByteCounts', name)) ?? [];
  if (!offs.length || offs.length !== counts.length) return undefined;
  for (let i = 1; i < offs.length; i++) if (offs[i] !== offs[i - 1]! + counts[i - 1]!) return undefined;
  return counts.reduce((a, b) => a + b, 0) === pageBytes ? offs[0] : undefined;
}

export async function openTiff(path: string, name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const { tiff, size, pages: count } = await openGeoTiff(path, name);
  try {
    let first: GeoTIFFImage;
    try {
      first = await tiff.getImage(0);
    } catch (err) {
      throw invalidInput(`${name} is damaged or truncated: its first page cannot be read (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
    }
    const ny = first.getHeight();
    const nx = first.getWidth();
    const src = tiffSourceType(first, name);
    const shape = checkShape([count, ny, nx], name, src, limits);
    const ij = imageJInfo(first);
    const declared = Number(ij.images ?? ij.slices ?? NaN);
    if (Number.isInteger(declared) && declared > count) {
      // ImageJ saves a stack of more than 4 GiB with one page directory and the slices one after another
      const contiguous = count === 1 && ij.hyperstack !== 'true' ? await contiguousImageJData(first, ny * nx * SOURCE_BYTES[src], name) : undefined;
      if (contiguous !== undefined && contiguous + declared * ny * nx * SOURCE_BYTES[src] <= size) {
        const shape3 = checkShape([declared, ny, nx], name, src, limits);
        const notes: string[] = [`an ImageJ stack of ${declared} slices stored one after another (as ImageJ saves stacks over 4 GiB)`];
        const desc = describe('tiff', path, shape3, src, { um: tiffSpacing(first, notes, await tiffDescription(first)), notes }, [0, 0, 0], first.littleEndian !== false, 'imagej contiguous');
        await tiff.close();
        const bytes = await fileByteReader(path, contiguous, name, declared * ny * nx * SOURCE_BYTES[src]);
        return streamReader(desc, bytes, new VoxelDecoder(src, first.littleEndian !== false));
      }
      throw invalidInput(`${name} is truncated: it should hold ${declared} slices (ImageJ header) but only ${count} page(s) can be found. Copy the file again.`);
    }
    if (Number.isInteger(declared) && declared < count && ij.hyperstack === 'true') {
      throw unsupported(`${name} is an ImageJ hyperstack (channels or time points); save a single 3D stack.`);
    }
    const notes: string[] = [];
    const description = await tiffDescription(first);
    const ome = omeTiffPlanes(description);
    if (ome && (ome.channels > 1 || ome.times > 1)) {
      const what = [ome.channels > 1 ? `${ome.channels} channels` : '', ome.times > 1 ? `${ome.times} time points` : ''].filter(Boolean).join(' and ');
      throw unsupported(`${name} is an OME-TIFF with ${what}; petromap imports one greyscale 3D stack: save a single channel and time point (e.g. Fiji: Image > Duplicate).`);
    }
    if (ome && ome.images > 1) notes.push(`the OME-TIFF holds ${ome.images} images; the first was imported`);
    const spacing = tiffSpacing(first, notes, description);
    await checkTiffPage(first, size, name, 0, count, limits);
    return sliceStackReader('tiff', path, shape, src, { um: spacing, notes }, 'tiff pages', async (z, out, at) => {
      const where = `page ${z + 1} of ${count}`;
      let image: GeoTIFFImage;
      try {
        image = await tiff.getImage(z);
      } catch (err) {
        throw invalidInput(`${name} is damaged or truncated at ${where} (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
      }
      if (image.getHeight() !== ny || image.getWidth() !== nx) {
        throw invalidInput(`${name}: page ${z + 1} is ${image.getWidth()} x ${image.getHeight()} pixels but page 1 is ${nx} x ${ny}; all slices of a volume must have the same size.`);
      }
      if (tiffSourceType(image, name) !== src) throw invalidInput(`${name}: page ${z + 1} has a different pixel type from page 1.`);
      const layout = await checkTiffPage(image, size, name, z, count, limits);
      await readTiffPage(image, layout, out, at, name, where);
    }, async () => {
      await tiff.close();
    });
  } catch (err) {
    await tiff.close();
    throw err;
  }
}
