/**
 * A folder of single-slice TIFFs (or a list of them), in natural file-name order; PNG or BMP slices
 * when the folder holds no TIFF (image-slices-node.ts), with a SkyScan log's voxel size when the
 * slices give none.
 *
 * The z spacing of a slice stack (issue 15): slices are often exported every n-th, and taking the
 * pixel width for z then squeezes the volume n-fold (features and the model see other textures; a
 * real sandstone stack lost 0.08 mean IoU). In order: the user's --spacing; ImageJ's `spacing=`;
 * the file-name numbering (slice_0000, slice_0050, ... -> every 50 -> 50 pixel widths; consecutive
 * numbers -> one pixel width, said in a note); otherwise (no numbers, uneven numbers, or numbered
 * gaps without a pixel size) the import is refused with a message asking for --spacing.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { invalidInput, notFound } from '../../errors';
import { DEFAULT_LIMITS, safeMessage } from '../../limits';
import type { SourceDType } from '../byte-readers-node';
import { checkTiffPage, openGeoTiff } from './check-tiff-page-node';
import { sliceStackReader } from './describe-volume-node';
import { checkShape, shown } from './header-checks-node';
import { readTiffPage } from './read-tiff-page-node';
import { IMAGE_SLICE_RE, readImageSlice, skyscanLogSpacing } from './image-slices-node';
import { tiffDescription, tiffSourceType, tiffSpacing } from './tiff-tags-node';
import type { OpenOptions, VolumeReader } from './volume-reader';

const TIFF_RE = /\.tiff?$/i;

export async function listTiffSlices(source: string | string[], name: string): Promise<string[]> {
  // files listed one by one (a shell's slice_*.tif puts slice_10 before slice_2): the names' numeric order
  if (Array.isArray(source)) return [...source].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const entries = await fs.promises.readdir(source).catch(() => {
    throw notFound(`The folder ${name} does not exist or cannot be read.`);
  });
  const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  let files = entries.filter((f) => TIFF_RE.test(f) && !f.startsWith('.')).sort(byNumber);
  // no TIFF: PNG or BMP slices (SkyScan NRecon, Dragonfly, Avizo exports), of one kind
  if (files.length === 0) {
    const images = entries.filter((f) => IMAGE_SLICE_RE.test(f) && !f.startsWith('.'));
    const pngs = images.filter((f) => /\.png$/i.test(f));
    files = (pngs.length >= images.length - pngs.length ? pngs : images.filter((f) => !/\.png$/i.test(f))).sort(byNumber);
  }
  if (files.length === 0) {
    const seen = entries.slice(0, 5).map((e) => shown(e, 40)).join(', ');
    throw invalidInput(`The folder ${name} holds no .tif/.tiff, .png or .bmp slices${entries.length ? ` (found: ${seen}${entries.length > 5 ? ', ...' : ''})` : ' (it is empty)'}.`);
  }
  await confineSlices(source, files, name);
  return files.map((f) => nodePath.join(source, f));
}

/**
 * A folder's slice files must be regular files whose real path stays inside the folder: a slice that
 * is a link out of it (absolute, through '..', or dangling) is refused, as a zip upload refuses links,
 * without saying whether its target exists; so is a folder, pipe or device named like a slice. Links
 * between files of the folder itself are followed. (Files listed one by one were named by the user.)
 */
async function confineSlices(folder: string, files: string[], name: string): Promise<void> {
  const root = await fs.promises.realpath(folder);
  const notRegular = (f: string) => invalidInput(`${name}/${shown(f, 60)} is not a regular file (a folder, pipe or device named like a slice); remove it from the slice folder.`);
  for (const f of files) {
    const p = nodePath.join(folder, f);
    const lst = await fs.promises.lstat(p);
    if (lst.isFile()) continue;
    if (!lst.isSymbolicLink()) throw notRegular(f);
    const real = await fs.promises.realpath(p).catch(() => undefined);
    if (real === undefined || !real.startsWith(root + nodePath.sep)) {
      throw invalidInput(`${name}/${shown(f, 60)} is a link that leads out of the folder (or nowhere); petromap reads only the slice files inside ${name}: copy the slice itself into the folder.`);
    }
    if (!(await fs.promises.stat(real)).isFile()) throw notRegular(f);
  }
}

/** The trailing number of each file name (null when a name has none). */
function sliceNumbers(files: string[]): number[] | null {
  const nums: number[] = [];
  for (const f of files) {
    const m = /(\d+)(?!.*\d)/.exec(nodePath.basename(f).replace(TIFF_RE, ''));
    if (!m) return null;
    nums.push(Number(m[1]));
  }
  return nums;
}

export interface SliceStep {
  /** slice-number step between consecutive files (1 = contiguous); null when the names do not say */
  step: number | null;
  /** why the step is unknown, for the message */
  why?: string;
}

/** The even step of the file-name numbering of a slice stack, or why there is none. */
export function sliceNumberStep(files: string[]): SliceStep {
  if (files.length < 2) return { step: 1 };
  const nums = sliceNumbers(files);
  if (!nums) return { step: null, why: 'the file names carry no slice numbers' };
  const steps = new Set<number>();
  for (let i = 1; i < nums.length; i++) steps.add(nums[i]! - nums[i - 1]!);
  if (steps.size === 1) {
    const st = [...steps][0]!;
    if (st >= 1) return { step: st };
  }
  const shownSteps = [...steps].slice(0, 4).join(', ');
  return { step: null, why: `the slice numbers in the file names are not evenly spaced (steps ${shownSteps})` };
}

const SPACING_HELP = 'give the voxel size with --spacing z,y,x in µm (in the web app: the "Voxel size" field of the upload), z being the distance between two slices';

export async function openTiffFolder(source: string | string[], name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const files = await listTiffSlices(source, name);
  const fileName = (f: string) => `${name}/${shown(nodePath.basename(f), 60)}`;
  const folder = Array.isArray(source) ? nodePath.dirname(files[0]!) : source;
  if (IMAGE_SLICE_RE.test(files[0]!)) return openImageSlices(files, folder, name, fileName, opts);
  const { tiff, size, pages } = await openGeoTiff(files[0]!, fileName(files[0]!));
  onePage(pages, files[0]!, fileName(files[0]!));
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
    spacing = tiffSpacing(first, notes, await tiffDescription(first));
  } finally {
    await tiff.close();
  }
  spacing = stackSpacing(files, spacing ?? (await skyscanSpacing(folder, notes)), notes, name, opts);
  return sliceStackReader('tiff-folder', folder, [files.length, ny, nx], src, { um: spacing, notes }, 'tiff slices', async (z, out, at) => {
    const f = files[z]!;
    const fname = fileName(f);
    const { tiff: t, size: s, pages: n } = await openGeoTiff(f, fname);
    try {
      onePage(n, f, fname);
      const image = await t.getImage(0).catch((err: unknown) => {
        throw invalidInput(`${fname} is damaged or truncated (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
      });
      if (image.getHeight() !== ny || image.getWidth() !== nx) {
        throw invalidInput(`${fname} is ${image.getWidth()} x ${image.getHeight()} pixels but the first slice is ${nx} x ${ny}; all slices must have the same size.`);
      }
      if (tiffSourceType(image, fname) !== src) throw invalidInput(`${fname} has a different pixel type from the first slice.`);
      const layout = await checkTiffPage(image, s, fname, 0, 1, limits);
      await readTiffPage(image, layout, out, at, fname, 'its page');
    } finally {
      await t.close();
    }
  });
}

/**
 * A slice file of a folder must hold one page: a multi-page TIFF in it (a scan saved as one stack,
 * petromap's own labels.tif export) was read as ONE slice, its first page, without a word.
 */
function onePage(pages: number, file: string, fname: string): void {
  if (pages > 1) throw invalidInput(`${fname} holds ${pages} pages: a multi-page TIFF is a volume by itself, not a slice of the folder. Give that file (${shown(nodePath.basename(file), 60)}) instead of its folder.`);
}

/** A SkyScan reconstruction log's isotropic voxel size (its slices are one pixel apart), with a note. */
async function skyscanSpacing(folder: string, notes: string[]): Promise<[number, number, number] | undefined> {
  const log = await skyscanLogSpacing(folder);
  if (!log) return undefined;
  notes.push(`voxel size from the SkyScan log ${shown(log.file, 40)}: ${log.um} µm`);
  return [log.um, log.um, log.um];
}

/** PNG or BMP slices (image-slices-node.ts), read one file at a time. */
async function openImageSlices(files: string[], folder: string, name: string, fileName: (f: string) => string, opts: OpenOptions): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const first = await readImageSlice(files[0]!, fileName(files[0]!), limits);
  const { width: nx, height: ny, src } = first;
  checkShape([files.length, ny, nx], name, src, limits);
  const notes: string[] = [];
  const kind = /\.png$/i.test(files[0]!) ? 'png' : 'bmp';
  const spacing = stackSpacing(files, await skyscanSpacing(folder, notes), notes, name, opts, `${kind.toUpperCase()} slices`);
  return sliceStackReader('tiff-folder', folder, [files.length, ny, nx], src, { um: spacing, notes }, `${kind} slices`, async (z, out, at) => {
    const fname = fileName(files[z]!);
    const s = z === 0 ? first : await readImageSlice(files[z]!, fname, limits);
    if (s.width !== nx || s.height !== ny) throw invalidInput(`${fname} is ${s.width} x ${s.height} pixels but the first slice is ${nx} x ${ny}; all slices must have the same size.`);
    if (s.src !== src) throw invalidInput(`${fname} has a different pixel type (${s.src}) from the first slice (${src}).`);
    out.set(s.data as never, at);
  });
}

/** The z spacing of a slice stack (see the module comment); refuses when it cannot be told. */
function stackSpacing(files: string[], spacing: [number, number, number] | undefined, notes: string[], name: string, opts: OpenOptions, what = 'TIFFs'): [number, number, number] | undefined {
  const PIXEL_NOTE = /pixel width was used for z/;
  const zFromFile = !notes.some((n) => PIXEL_NOTE.test(n)) && spacing !== undefined;
  if (opts.spacingUm) {
    // the user's voxel size replaces the file's: no guess to report, but a sparse stack given z = x may be every k-th slice
    for (let i = notes.length - 1; i >= 0; i--) if (PIXEL_NOTE.test(notes[i]!)) notes.splice(i, 1);
    const [gz, , gx] = opts.spacingUm, { step } = sliceNumberStep(files);
    if (step !== null && step > 1 && gz === gx) notes.push(`the slice files are numbered every ${step} but the spacing given has z = x = ${+gz.toPrecision(4)} µm: if the folder holds one slice in every ${step} of the scan, z is ${step} × ${+gx.toPrecision(4)} = ${+(step * gx).toPrecision(4)} µm (give ${+(step * gx).toPrecision(4)},${+opts.spacingUm[1].toPrecision(4)},${+gx.toPrecision(4)})`);
    return spacing;
  }
  if (zFromFile) return spacing; // ImageJ spacing=
  for (let i = notes.length - 1; i >= 0; i--) if (PIXEL_NOTE.test(notes[i]!)) notes.splice(i, 1);
  const { step, why } = sliceNumberStep(files);
  if (step === null) throw invalidInput(`${name}: the distance between the ${files.length} slices is unknown (${why}, and the ${what} give no ImageJ spacing); ${SPACING_HELP}.`);
  if (step === 1) {
    if (spacing) notes.push(`the slice files are numbered consecutively: z spacing = pixel width (${+spacing[2].toPrecision(4)} µm); if the slices were taken further apart, give --spacing z,y,x`);
    return spacing;
  }
  if (!spacing) throw invalidInput(`${name}: the slice files are numbered every ${step} but the ${what} give no pixel size; ${SPACING_HELP}.`);
  const z = step * spacing[2];
  notes.push(`the slice files are numbered every ${step}: z spacing = ${step} pixel widths = ${+z.toPrecision(4)} µm (give --spacing z,y,x if that is wrong)`);
  return [z, spacing[1], spacing[2]];
}
