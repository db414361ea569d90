/** Reading one TIFF page band by band through the bounded decoders. */
import type { BaseDecoder, GeoTIFFImage } from 'geotiff';
import { invalidInput } from '../../errors';
import { safeMessage } from '../../limits';
import type { AnyVoxelArray } from '../types';
import type { TiffPageLayout } from './check-tiff-page-node';
import { BoundedTiffDecoder, TiffBombError } from './tiff-decoders-node';

/** Stands in for geotiff's decoder pool: every strip/tile goes through a bounded decoder. */
function boundedPool(layout: TiffPageLayout) {
  return {
    bindParameters(compression: number, params: ConstructorParameters<typeof BaseDecoder>[0]) {
      const p = { ...params, tileWidth: layout.blockW, tileHeight: layout.blockH };
      return new BoundedTiffDecoder(p, compression, layout.blockW * layout.blockH * layout.bytesPerPixel, layout.littleEndian);
    },
  };
}

/** Rows read per call: whole strips/tiles, about 16 MiB at a time. */
const TIFF_BAND_BYTES = 16 << 20;

/**
 * Reads page `image` into out[offset ...] band by band (whole strips or tile rows), each strip or
 * tile decoded with a bounded decoder: memory is one band, whatever the page declares.
 */
export async function readTiffPage(image: GeoTIFFImage, layout: TiffPageLayout, out: AnyVoxelArray, offset: number, name: string, where: string): Promise<void> {
  const w = image.getWidth();
  const h = image.getHeight();
  const rowBytes = w * layout.bytesPerPixel;
  const bandRows = layout.blockH * Math.max(1, Math.floor(TIFF_BAND_BYTES / (rowBytes * layout.blockH)));
  const pool = boundedPool(layout);
  for (let y0 = 0; y0 < h; y0 += bandRows) {
    const y1 = Math.min(h, y0 + bandRows);
    let r: ArrayLike<number> & { length: number };
    try {
      r = (await image.readRasters({ window: [0, y0, w, y1], interleave: true, samples: [0], pool: pool as never })) as unknown as ArrayLike<number> & { length: number };
    } catch (err) {
      if (err instanceof TiffBombError) {
        throw invalidInput(`${name}: a compressed strip of ${where} unpacks to more data than the page's size allows; the file is damaged or was made to exhaust memory.`);
      }
      throw invalidInput(`${name} is damaged at ${where} (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
    }
    out.set(r as never, offset + y0 * w);
  }
}
