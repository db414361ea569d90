/** What every format reader returns: a description of the file and a z-ordered slice reader. */
import type { Limits } from '../../limits';
import type { SourceDType } from '../byte-readers-node';
import type { AnyVoxelArray, DType, Shape3 } from '../types';

export type VolumeFormat = 'tiff' | 'tiff-folder' | 'nrrd' | 'mha' | 'mhd' | 'nifti' | 'raw' | 'txm' | 'ome-zarr';

export const SUPPORTED_EXTENSIONS = '.tif/.tiff (multi-page), a folder of .tif (or .png/.bmp) slices, .nrrd/.nhdr, .mha, .mhd (+ .raw), .nii/.nii.gz, Zeiss .txm, an OME-Zarr folder (Zarr v2 or v3), or headerless .raw with its dimensions';

export interface RawOptions {
  shape: Shape3;
  dtype: SourceDType | DType;
  littleEndian: boolean;
  headerBytes?: number;
}

export interface VolumeFileDescription {
  format: VolumeFormat;
  /** the file (or folder) described */
  path: string;
  /** (z, y, x) voxels */
  shape: Shape3;
  /** voxel type in the file */
  sourceType: SourceDType;
  /** voxel type in the imported store */
  dtype: DType;
  /** (z, y, x) in µm; [1,1,1] when the file does not say (see spacingKnown) */
  spacingUm: [number, number, number];
  originUm: [number, number, number];
  spacingKnown: boolean;
  littleEndian: boolean;
  /** how the voxel data is stored: raw, gzip, zlib, tiff strips ... */
  encoding: string;
  /** things the user should know: conversions, assumed units, ignored orientation */
  notes: string[];
}

/** What every `open*` takes besides the path: the budgets, and whether a header may name a data file. */
export interface OpenOptions {
  limits?: Limits;
  /**
   * NRRD `data file:` / MHD `ElementDataFile` naming another file (default true). A server that
   * received one uploaded file passes false: the header's folder is not the user's.
   */
  allowDetachedData?: boolean;
  /** the voxel size the user gave (it replaces the file's; a slice stack whose z spacing cannot be told is refused without it) */
  spacingUm?: [number, number, number];
}

export interface VolumeReader {
  desc: VolumeFileDescription;
  /** Read the next `out.length / (ny*nx)` slices (in z order) into `out` (stored dtype). */
  readSlices(out: AnyVoxelArray): Promise<void>;
  close(): Promise<void>;
  /** OME-Zarr: chunk (or shard) files the reads so far found missing, read as the array's fill value (the Zarr rule) */
  missingChunks?(): { missing: number; read: number; fillValue: number };
}
