/** A folder of single-slice TIFFs (or a list of them), in natural file-name order. */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { invalidInput, notFound } from '../../errors';
import { DEFAULT_LIMITS, safeMessage } from '../../limits';
import type { SourceDType } from '../byte-readers-node';
import { checkTiffPage, openGeoTiff } from './check-tiff-page-node';
import { describe } from './describe-volume-node';
import { checkShape, shown } from './header-checks-node';
import { readTiffPage } from './read-tiff-page-node';
import { tiffSourceType, tiffSpacing } from './tiff-tags-node';
import type { OpenOptions, VolumeReader } from './volume-reader';

const TIFF_RE = /\.tiff?$/i;

export async function listTiffSlices(source: string | string[], name: string): Promise<string[]> {
  if (Array.isArray(source)) return source;
  const entries = await fs.promises.readdir(source).catch(() => {
    throw notFound(`The folder ${name} does not exist or cannot be read.`);
  });
  const files = entries.filter((f) => TIFF_RE.test(f) && !f.startsWith('.')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (files.length === 0) {
    const seen = entries.slice(0, 5).map((e) => shown(e, 40)).join(', ');
    throw invalidInput(`The folder ${name} holds no .tif/.tiff slices${entries.length ? ` (found: ${seen}${entries.length > 5 ? ', ...' : ''})` : ' (it is empty)'}.`);
  }
  return files.map((f) => nodePath.join(source, f));
}

export async function openTiffFolder(source: string | string[], name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const files = await listTiffSlices(source, name);
  const fileName = (f: string) => `${name}/${shown(nodePath.basename(f), 60)}`;
  const { tiff, size } = await openGeoTiff(files[0]!, fileName(files[0]!));
  let ny: number, nx: number, src: SourceDType, spacing: [number, number, number] | undefined;
  const notes: string[] = [];
  try {
    const first = await tiff.getImage(0).catch((err: unknown) => {
      throw invalidInput(`${fileName(files[0]!)} is damaged or truncated (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
    });
    ny = first.getHeight();
    nx = first.getWidth();
    src = tiffSourceType(first, fileName(files[0]!));
    checkShape([files.length, ny, nx], name, src, limits);
    await checkTiffPage(first, size, fileName(files[0]!), 0, 1, limits);
    spacing = tiffSpacing(first, notes);
  } finally {
    await tiff.close();
  }
  const desc = describe('tiff-folder', Array.isArray(source) ? nodePath.dirname(files[0]!) : source, [files.length, ny, nx], src, { um: spacing, notes }, [0, 0, 0], true, 'tiff slices');
  let z = 0;
  return {
    desc,
    async readSlices(out) {
      const n = out.length / (ny * nx);
      for (let k = 0; k < n; k++, z++) {
        const f = files[z]!;
        const fname = fileName(f);
        const { tiff: t, size: s } = await openGeoTiff(f, fname);
        try {
          const image = await t.getImage(0).catch((err: unknown) => {
            throw invalidInput(`${fname} is damaged or truncated (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
          });
          if (image.getHeight() !== ny || image.getWidth() !== nx) {
            throw invalidInput(`${fname} is ${image.getWidth()} x ${image.getHeight()} pixels but the first slice is ${nx} x ${ny}; all slices must have the same size.`);
          }
          if (tiffSourceType(image, fname) !== src) throw invalidInput(`${fname} has a different pixel type from the first slice.`);
          const layout = await checkTiffPage(image, s, fname, 0, 1, limits);
          await readTiffPage(image, layout, out, k * ny * nx, fname, 'its page');
        } finally {
          await t.close();
        }
      }
    },
    close: async () => {},
  };
}
