/**
 * Correlate (issue 3): register a 2D EDS mineral map onto the polished top surface of an XRM
 * volume and transfer its labels. Framework-free; the Node-only parts are refine-in-worker-node.ts
 * (worker thread) and read-inputs-node.ts (file readers for the CLI and benchmark).
 */
export { detectSurface, type DetectSurfaceOptions } from './detect-surface';
export { extractSlab, slabGeometry, type ExtractSlabOptions } from './extract-slab';
export { fitLandmarks, landmarkResiduals, type FitLandmarksOptions, type SlabLandmark } from './fit-landmarks';
export { coarseAlign, refineAffineByRatio, type CoarseAlignOptions } from './coarse-align';
export { movingImage, NO_CLASS, type MovingImage, type MovingImageOptions } from './moving-image';
export { refineWithElastix, parseElastixTransform, type RefineImages, type RefineOptions } from './elastix-refine';
export { registerEdsToVolume, type RegisterOptions, type RegistrationWithSlab } from './register-eds';
export { registerEdsOnFace, faceView, faceToVolume, flipZ, type Face } from './face';
export { transferLabels, classMapFromNames, erodeLabels, type ClassMap, type SurfaceLabels, type TransferLabelsOptions } from './transfer-labels';
export { mutualInformation, mapCoverage, registrationError, registrationErrorAt } from './quality';
export { regularFields, refineFields, edsPointToVoxel, fieldShiftAt } from './refine-fields';
export { namedEdsToVoxel, affine2to3FromJson, elastixTransformText, edsLabelsMha, type NamedAffine2to3 } from './transform-export';
export type { VolumeSource } from './volume-source';
export type * from './types';
