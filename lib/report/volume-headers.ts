/**
 * Headers of the raw volume formats petromap writes: NRRD (text), NIfTI-1 (352 bytes) and the
 * IFDs of an uncompressed classic TIFF stack. Pure functions, no I/O: the streamed exporter
 * (export-stream-node.ts; the CLI's files and the web app's downloads) writes the header these
 * return and then the voxels.
 *
 * Geometry is given the petromap way, (z, y, x) in micrometres; the headers list x first.
 */
import { unsupported } from '../errors';
import { bytesPerVoxel, type DType, type Shape3 } from '../volume/types';

type Vec3 = readonly [number, number, number];

/**
 * What an export of a scan whose file gave no voxel size says of it (ASCII: a TIFF description and
 * a NIfTI descrip hold no other). The store records such a size as `spacingAssumed` (1 µm at import);
 * an export still writes it, but marked, so a length measured in Fiji, Avizo or Slicer is known to rest
 * on an assumption, not on measured micrometres.
 */
export const ASSUMED_SPACING_NOTE = 'VOXEL SIZE ASSUMED at import, not measured';

export interface VolumeGeometry {
  /** (z, y, x) voxels */
  shape: Shape3 | readonly [number, number, number];
  /** (z, y, x) voxel size in µm */
  spacingUm: Vec3;
  /** (z, y, x) position of voxel (0, 0, 0) in µm; default 0 */
  originUm?: Vec3;
  /** default uint8 */
  dtype?: DType;
}

// ---------------------------------------------------------------- NRRD

const NRRD_TYPE = { uint8: 'uint8', uint16: 'uint16', float32: 'float' } as const;

export interface NrrdHeaderOptions extends VolumeGeometry {
  /**
   * Channel names. More than one makes a 4D NRRD whose first (fastest) axis is the channel list,
   * i.e. the voxels must be written interleaved (all channels of a voxel together).
   */
  channels?: readonly string[];
  /** text of the `#` comment line */
  comment: string;
  /**
   * The voxel size was assumed at import: a second `#` line and the `content:` field say so (with
   * `comment` as the content), and the key/value `petromap_spacing_assumed:=true` marks it for scripts.
   */
  spacingAssumed?: boolean;
}

/**
 * NRRD header text (raw encoding, little endian, µm), ending with the blank line before the data.
 * The space is right-anterior-superior, the frame of the NIfTI sform: ITK and 3D Slicer then put
 * a voxel of the NRRD and of the NIfTI export at the same point (the NRRD in µm, the NIfTI in mm).
 */
export function nrrdHeader(o: NrrdHeaderOptions): string {
  const [nz, ny, nx] = o.shape;
  const [sz, sy, sx] = o.spacingUm;
  const [oz, oy, ox] = o.originUm ?? [0, 0, 0];
  const channels = o.channels ?? [];
  const nc = channels.length;
  const oneLine = (t: string) => t.replace(/[\r\n]+/g, ' ');
  const lines = ['NRRD0004', `# ${oneLine(o.comment)}`];
  if (o.spacingAssumed) lines.push(`# ${ASSUMED_SPACING_NOTE}: ${assumedSpacingWords(o.spacingUm)}`, `content: ${oneLine(o.comment)} (${ASSUMED_SPACING_NOTE})`);
  lines.push(`type: ${NRRD_TYPE[o.dtype ?? 'uint8']}`, 'encoding: raw', 'space: right-anterior-superior');
  if (nc > 1) {
    lines.push('dimension: 4', `sizes: ${nc} ${nx} ${ny} ${nz}`, 'kinds: list domain domain domain', `space directions: none (${sx},0,0) (0,${sy},0) (0,0,${sz})`);
    lines.push(`labels: "${channels.join(';')}" "x" "y" "z"`);
  } else {
    lines.push('dimension: 3', `sizes: ${nx} ${ny} ${nz}`, 'kinds: domain domain domain', `space directions: (${sx},0,0) (0,${sy},0) (0,0,${sz})`);
  }
  lines.push(`space origin: (${ox},${oy},${oz})`, 'space units: "microns" "microns" "microns"', 'endian: little');
  if (o.spacingAssumed) lines.push('petromap_spacing_assumed:=true');
  return lines.join('\n') + '\n\n';
}

/** The assumed size in words (ASCII), for the headers that have room for more than the note. */
export function assumedSpacingWords(spacingUm: Vec3): string {
  const s = spacingUm.every((v) => v === spacingUm[0]) ? `${spacingUm[0]} um` : `${spacingUm.join(' x ')} um (z, y, x)`;
  return `the scan file gave no voxel size and ${s} was taken, so lengths, areas and volumes measured in this file rest on that guess, not on a measurement; import the scan with its real voxel size (petromap import --spacing, or the Data step) and export again`;
}

// ---------------------------------------------------------------- NIfTI-1

/** NIfTI-1 single file: 348-byte header + 4-byte extension flag, data at this offset. */
export const NIFTI_VOX_OFFSET = 352;
const NIFTI_DATATYPE = { uint8: 2, uint16: 512, float32: 16 } as const;
const NIFTI_UNITS = { mm: 2, um: 3 } as const; // NIFTI_UNITS_MM, NIFTI_UNITS_MICRON

export interface NiftiHeaderOptions extends VolumeGeometry {
  /** > 1 makes a 4D image, the channels along the 4th axis (written channel after channel) */
  channels?: number;
  /**
   * Unit of pixdim and the sform: 'mm' is what most tools assume; 'um' is NIFTI_UNITS_MICRON
   * (ITK converts it to mm, tools that ignore xyzt_units see micrometre numbers).
   */
  units: 'mm' | 'um';
  /** `descrip`, at most 79 bytes are kept */
  description: string;
  /**
   * The voxel size was assumed at import: xyzt_units says "unknown" (NIFTI_UNITS_UNKNOWN; the
   * numbers stay those of `units`, which ITK and 3D Slicer assume for unknown units too) and
   * `descrip` starts with ASSUMED_SPACING_NOTE (the description after it, as far as it fits).
   */
  spacingAssumed?: boolean;
}

/** The 352-byte NIfTI-1 single-file header (n+1, little endian, sform = spacing and origin). */
export function niftiHeader(o: NiftiHeaderOptions): Uint8Array {
  const buf = new ArrayBuffer(NIFTI_VOX_OFFSET);
  const dv = new DataView(buf);
  const [nz, ny, nx] = o.shape;
  const dtype = o.dtype ?? 'uint8';
  const nc = o.channels ?? 1;
  const k = o.units === 'mm' ? 1 / 1000 : 1;
  const [sz, sy, sx] = o.spacingUm.map((s) => s * k);
  const [oz, oy, ox] = (o.originUm ?? [0, 0, 0]).map((s) => s * k);
  for (const n of [nx, ny, nz, nc]) if (!(Number.isInteger(n) && n >= 1 && n <= 32767)) throw unsupported(`NIfTI-1 stores at most 32767 voxels or channels along an axis; this volume is ${nx} x ${ny} x ${nz} x ${nc}.`);
  dv.setInt32(0, 348, true); // sizeof_hdr
  [nc > 1 ? 4 : 3, nx, ny, nz, nc, 1, 1, 1].forEach((v, i) => dv.setInt16(40 + 2 * i, v, true)); // dim
  dv.setInt16(70, NIFTI_DATATYPE[dtype], true);
  dv.setInt16(72, 8 * bytesPerVoxel(dtype), true); // bitpix
  [1, sx, sy, sz, 1, 1, 1, 1].forEach((v, i) => dv.setFloat32(76 + 4 * i, v, true)); // pixdim (pixdim[0] = qfac)
  dv.setFloat32(108, NIFTI_VOX_OFFSET, true); // vox_offset
  dv.setFloat32(112, 1, true); // scl_slope
  dv.setFloat32(116, 0, true); // scl_inter
  dv.setUint8(123, o.spacingAssumed ? 0 : NIFTI_UNITS[o.units]); // xyzt_units: space only (the 4th axis holds channels, not time); 0 unknown
  const descrip = o.spacingAssumed ? `${ASSUMED_SPACING_NOTE}; ${o.description}` : o.description;
  new Uint8Array(buf, 148, 79).set(new TextEncoder().encode(descrip).subarray(0, 79)); // descrip
  dv.setInt16(252, 0, true); // qform_code
  dv.setInt16(254, 1, true); // sform_code: scanner-anatomical
  [sx, 0, 0, ox].forEach((v, i) => dv.setFloat32(280 + 4 * i, v, true)); // srow_x
  [0, sy, 0, oy].forEach((v, i) => dv.setFloat32(296 + 4 * i, v, true)); // srow_y
  [0, 0, sz, oz].forEach((v, i) => dv.setFloat32(312 + 4 * i, v, true)); // srow_z
  new Uint8Array(buf, 344, 4).set([0x6e, 0x2b, 0x31, 0]); // magic "n+1\0"
  return new Uint8Array(buf);
}

// ---------------------------------------------------------------- TIFF (classic, little endian)

/** Offsets in a classic TIFF are uint32. */
export const TIFF_MAX_BYTES = 2 ** 32 - 1;

/** Whether `pages` pages of `pageBytes` pixels each fit a classic TIFF (with room for IFDs and descriptions). */
export const classicTiffFits = (pages: number, pageBytes: number) => pages * (pageBytes + 512) + 1024 <= TIFF_MAX_BYTES;

/** The 8-byte file header: "II", 42, offset of the first IFD (0 = patched later). */
export function tiffFileHeader(firstIfdOffset = 0): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 0x4949, true);
  dv.setUint16(2, 42, true);
  dv.setUint32(4, firstIfdOffset, true);
  return b;
}

/** An IFD entry: tag, field type (2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL), count, value (a number, or the value's bytes). */
export type TiffEntry = [tag: number, type: number, count: number, value: number | Uint8Array];

/** Optional tags for `tiffPageIfd({ extraTags })`. */
export const tiffTags = {
  /** NewSubfileType 0: a full-resolution page */
  newSubfileType: (): TiffEntry => [254, 4, 1, 0],
  /** SampleFormat: 1 unsigned integer, 3 IEEE float */
  sampleFormat: (dtype: DType): TiffEntry => [339, 3, 1, dtype === 'float32' ? 3 : 1],
  /** XResolution / YResolution in pixels per µm (as fractions over 10^6) and ResolutionUnit none, as ImageJ writes them with unit=micron */
  resolutionPerUm(spacingXUm: number, spacingYUm: number): TiffEntry[] {
    const rational = (v: number) => {
      const den = 1_000_000;
      const b = new Uint8Array(8);
      const d = new DataView(b.buffer);
      d.setUint32(0, Math.max(1, Math.round(v * den)), true);
      d.setUint32(4, den, true);
      return b;
    };
    return [[282, 5, 1, rational(1 / spacingXUm)], [283, 5, 1, rational(1 / spacingYUm)], [296, 3, 1, 1]];
  },
};

export interface TiffPageOptions {
  width: number;
  height: number;
  /** default uint8 */
  dtype?: DType;
  /** where the returned bytes will be written (must be even) */
  ifdOffset: number;
  /** where this page's pixels are (one strip) */
  dataOffset: number;
  /** offset of the next IFD; 0 for the last page, or patched later at `ifdOffset + tiffNextIfdField(ifd)` */
  nextIfdOffset?: number;
  /** ImageDescription (ASCII), usually on the first page only */
  description?: string | null;
  /** further entries (e.g. from `tiffTags`), sorted in by tag */
  extraTags?: TiffEntry[];
}

/**
 * One IFD for an uncompressed single-strip greyscale page, followed by the values that do not fit
 * an entry (description, rationals) in tag order, each starting on a word boundary. The length
 * is that of the IFD and its values (no padding after the last value).
 */
export function tiffPageIfd(o: TiffPageOptions): Uint8Array {
  const dtype = o.dtype ?? 'uint8';
  const bpv = bytesPerVoxel(dtype);
  if (o.ifdOffset & 1) throw new RangeError(`A TIFF IFD must start on a word boundary (offset ${o.ifdOffset}).`);
  const desc = o.description ? new TextEncoder().encode(o.description + '\0') : null;
  const entries: TiffEntry[] = [
    [256, 4, 1, o.width],
    [257, 4, 1, o.height],
    [258, 3, 1, 8 * bpv],
    [259, 3, 1, 1], // no compression
    [262, 3, 1, 1], // BlackIsZero
    ...(desc ? ([[270, 2, desc.length, desc]] as TiffEntry[]) : []),
    [273, 4, 1, o.dataOffset],
    [277, 3, 1, 1],
    [278, 4, 1, o.height],
    [279, 4, 1, o.width * o.height * bpv],
    ...(o.extraTags ?? []),
  ].sort((a, b) => a[0] - b[0]) as TiffEntry[];
  const n = entries.length;
  const fixed = 2 + 12 * n + 4;
  const outOfLine = entries.map((e) => e[3]).filter((v): v is Uint8Array => v instanceof Uint8Array && v.length > 4);
  const length = outOfLine.reduce((a, v, i) => a + v.length + (i < outOfLine.length - 1 ? v.length & 1 : 0), fixed);
  if (o.ifdOffset + length > TIFF_MAX_BYTES || o.dataOffset + o.width * o.height * bpv > TIFF_MAX_BYTES || (o.nextIfdOffset ?? 0) > TIFF_MAX_BYTES) {
    throw unsupported('The TIFF would be larger than 4 GB, the limit of a classic TIFF; export as NRRD, NIfTI or OME-Zarr instead.');
  }
  const out = new Uint8Array(length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, n, true);
  let extra = fixed;
  entries.forEach(([tag, type, count, value], i) => {
    const at = 2 + 12 * i;
    dv.setUint16(at, tag, true);
    dv.setUint16(at + 2, type, true);
    dv.setUint32(at + 4, count, true);
    if (value instanceof Uint8Array) {
      if (value.length <= 4) out.set(value, at + 8);
      else {
        out.set(value, extra);
        dv.setUint32(at + 8, o.ifdOffset + extra, true);
        extra += value.length + (value.length & 1);
      }
    } else if (type === 3) dv.setUint16(at + 8, value, true);
    else dv.setUint32(at + 8, value, true);
  });
  dv.setUint32(fixed - 4, o.nextIfdOffset ?? 0, true);
  return out;
}

/** Position of the next-IFD offset field inside an IFD returned by `tiffPageIfd`. */
export const tiffNextIfdField = (ifd: Uint8Array) => 2 + 12 * new DataView(ifd.buffer, ifd.byteOffset).getUint16(0, true);

/**
 * A page laid out as [IFD and its values][pixels][a pad byte if needed], starting at `pageStart`
 * (even), so that every offset is known before the pixels are written (streaming). Returns the
 * bytes to write before the pixels, how many zero bytes to write after them, and where the next
 * page starts (its IFD, word aligned).
 */
export function tiffPageBeforeData(o: Omit<TiffPageOptions, 'ifdOffset' | 'dataOffset' | 'nextIfdOffset'> & { pageStart: number; last: boolean }): {
  header: Uint8Array;
  padAfter: number;
  nextPageStart: number;
} {
  const { pageStart, last, ...page } = o;
  const probe = tiffPageIfd({ ...page, ifdOffset: pageStart, dataOffset: 0 });
  const dataOffset = pageStart + probe.length;
  const end = dataOffset + o.width * o.height * bytesPerVoxel(o.dtype ?? 'uint8');
  const padAfter = end & 1;
  const nextPageStart = end + padAfter;
  const header = tiffPageIfd({ ...page, ifdOffset: pageStart, dataOffset, nextIfdOffset: last ? 0 : nextPageStart });
  return { header, padAfter, nextPageStart };
}
