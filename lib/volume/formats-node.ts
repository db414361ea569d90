/**
 * Header readers for the volume formats we import. Each `open*` validates the header against the
 * file, returns a description (shape, types, spacing in µm) and a slice reader that streams the
 * voxels in z order: memory is bounded by what the caller asks for at a time.
 *
 * One module per format under ./formats/ (open-nrrd, open-meta, open-nifti, open-raw, open-tiff,
 * open-tiff-folder, open-txm over compound-file), sharing the header checks (sizes, offsets, units), the confinement of a
 * detached header's data file to its folder, and the TIFF page checks and bounded decoders.
 * This module is the public entry point and re-exports them.
 */
export { MAX_TIFF_PAGES } from './formats/check-tiff-page-node';
export { shown, unitToUm } from './formats/header-checks-node';
export { openMeta } from './formats/open-meta-node';
export { openNifti } from './formats/open-nifti-node';
export { openNrrd } from './formats/open-nrrd-node';
export { isZarrFolder, openOmeZarr } from './formats/open-ome-zarr-node';
export { openRaw } from './formats/open-raw-node';
export { openTiff } from './formats/open-tiff-node';
export { openTxm, txmSlicePath, zeissProjectionsRefusal } from './formats/open-txm-node';
export { listTiffSlices, openTiffFolder } from './formats/open-tiff-folder-node';
export {
  SUPPORTED_EXTENSIONS,
  type OpenOptions,
  type RawOptions,
  type VolumeFileDescription,
  type VolumeFormat,
  type VolumeReader,
} from './formats/volume-reader';

