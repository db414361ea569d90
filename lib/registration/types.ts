/**
 * Result types of the Correlate stage (EDS map -> XRM volume registration).
 * Units: voxel indices (z, y, x) and pixels (u, v) unless a name says otherwise.
 */
import type { Affine2, Affine2to3 } from '../coords';

/**
 * The sample's polished top surface: the plane z = a*x + b*y + c in voxel indices, through the
 * centres of the first rock voxel layer (half a voxel below the air/rock edge).
 */
export interface SurfaceFit {
  a: number;
  b: number;
  c: number;
  /** angle between the plane normal and the z axis, degrees (physical, spacing-aware) */
  tiltDeg: number;
  /** direction in the (x, y) plane along which the surface goes deeper, degrees from +x towards +y */
  azimuthDeg: number;
  /** RMS distance (voxels along z) of the inlier column heights from the plane */
  residualRms: number;
  /** share of (x, y) columns whose air/rock transition lies within the inlier band */
  inlierFraction: number;
  /** grey value separating air from rock (Otsu on the top part of the volume) */
  threshold: number;
  /** subvoxel z of the air/rock transition per column, row-major (y, x); NaN where none */
  heightMap?: Float32Array;
}

/** An oblique 2D image resampled along the surface plane, one pixel per voxel pitch. */
export interface Slab {
  width: number;
  height: number;
  /** row-major (v, u) grey values; NaN outside the volume */
  data: Float32Array;
  /** slab pixel (u, v) -> voxel (z, y, x) ON the surface plane (depth 0) */
  slabToVoxel: Affine2to3;
  /** unit normal of the plane pointing into the rock, (z, y, x) */
  normal: [number, number, number];
  /** depths below the plane (voxels, along the normal) that were averaged into `data` */
  sampleDepthsVox: number[];
}

/** A landmark pair clicked by the user: the same feature in the EDS map and in the slab. */
export interface LandmarkPair {
  /** EDS pixel (u, v) */
  eds: [number, number];
  /** slab pixel (u, v); give this or `voxel` */
  slab?: [number, number];
  /** voxel (z, y, x) on or near the surface; projected onto the surface plane */
  voxel?: [number, number, number];
}

export interface LandmarkFit {
  edsToSlab: Affine2;
  /** distance (slab pixels) between each mapped EDS landmark and its slab landmark */
  residuals: number[];
  rms: number;
  /** true when the best similarity needed a reflection (mirrored map) */
  mirrored: boolean;
}

export interface CoarseAlignment {
  edsToSlab: Affine2;
  rotationDeg: number;
  mirrored: boolean;
  scale: number;
  /** correlation ratio eta^2 (slab grey explained by EDS label) at the chosen pose, 0..1 */
  score: number;
  /** overlap-damped mutual information (nats) that ranked the candidate poses */
  mi: number;
  /** the same for the best clearly different pose: a small margin means an ambiguous match */
  secondMi: number;
}

/** Truth-free readings behind a registration's confidence (lib/registration/confidence.ts). */
export interface ConfidenceReadings {
  /** the kept model's held-out patch error, voxels (null: too few patches on the volume to measure it) */
  heldOutRmsVox: number | null;
  /** map patches that measured a local shift */
  patches: number | null;
  /** automatic search: best / second-best distinct pose's mutual information (null with landmarks) */
  miRatio: number | null;
  /** share of the map on the volume */
  coverage: number;
  /** landmark pairs: RMS of their residuals, voxels (null without landmarks) */
  landmarkRmsVox: number | null;
}

export interface RegistrationConfidence {
  verdict: 'confirmed' | 'doubtful';
  /** what confirmed it, or why it is doubtful, in plain words */
  reason: string;
  readings: ConfidenceReadings;
}

export interface RegistrationQuality {
  /**
   * mutual information (nats) between slab grey and EDS label at the initial pose (landmark fit, or
   * the automatic search, which already ends in a correlation-ratio hill climb) and at the final pose
   */
  miBefore: number;
  miAfter: number;
  /** correlation ratio eta^2 after refinement */
  scoreAfter: number;
  /** share of EDS map pixels that land inside the volume */
  coverage: number;
  /** present when landmarks were given: their distances (slab pixels ~ voxels) after registration */
  landmarkResiduals?: number[];
  /** how the pose was initialised */
  initialisation: 'landmarks' | 'automatic';
  /** which refinement gave the kept pose ('ratio' = correlation-ratio hill climb, also part of the automatic search) */
  refinedBy: 'elastix' | 'ratio' | 'none';
  /** the automatic search's best and second-best distinct pose's mutual information (absent with landmarks, and in registrations stored before) */
  coarseMi?: number;
  secondMi?: number;
  /**
   * confirmed or doubtful, from truth-free readings (confidence.ts); absent in registrations stored
   * before it existed (treated as before: nothing stops on them)
   */
  confidence?: RegistrationConfidence;
}

/** Which polished face of the sample an EDS map shows (lib/registration/face.ts). */
export type Face = 'top' | 'bottom';

/** The transform model of a registration (issue 19). */
export type RegistrationModel = 'similarity' | 'affine' | 'fields';

/** A field of a stitched EDS mosaic, in EDS pixels: columns u0..u0+width-1, rows v0..v0+height-1. */
export interface FieldRect {
  name?: string;
  u0: number;
  v0: number;
  width: number;
  height: number;
}

/**
 * The per-field correction of a stitched map: EDS pixel p of this field shows the surface at
 * edsToSlab(p + shiftPx) (the global transform, regularised towards it: shiftPx is 0 for a field
 * with too little of the volume under it).
 */
export interface FieldCorrection extends FieldRect {
  shiftPx: [number, number];
  /** share of the field's pixels that land on the slab inside the volume */
  overlap: number;
  /** the shift was measured (enough overlap) and is larger than its noise */
  moved: boolean;
  /** where the shift comes from: the field's own match, its neighbours' shifts (stage drift), or none (the global transform) */
  placedBy?: 'measured' | 'neighbours' | 'global';
  /**
   * the field could not be placed on a map whose fields carry stitching errors (its own match not
   * distinct, its neighbours no help): its labels are left out of training (refine-fields.ts markUnplaced)
   */
  unplaced?: boolean;
  /**
   * its own match was distinct but within its noise (below 1.5 standard errors) on a map with
   * stitching errors: taken shrunk towards the global transform by T^2/(T^2+se^2)
   * (refine-fields.ts placeBelowNoise); absent in registrations stored before
   */
  belowNoise?: boolean;
}

/**
 * Local misfit over the map: the map cut into cols x rows patches, each patch's remaining shift
 * (voxels) between the model and the patch's best local alignment; null where a patch has too
 * little of the volume under it.
 */
export interface ResidualMap {
  cols: number;
  rows: number;
  /** patch size, EDS pixels (width, height) */
  patchPx: [number, number];
  /** row-major, cols * rows */
  misfitVox: (number | null)[];
}

/** Which model was kept and why, with the held-out evidence. */
export interface ModelChoice {
  requested: 'auto' | RegistrationModel;
  kept: RegistrationModel;
  reason: string;
  /** patches with enough overlap that measured a local shift */
  patches: number;
  /** leave-one-out residual (voxels, RMS over patches) of each model's fit to the patch shifts */
  heldOutRmsVox: { similarity: number | null; affine: number | null; fields: number | null };
  /**
   * split-half test of the affine: fitted on one half of the map's patches (a checkerboard), the
   * gain in correlation ratio (eta^2) over the similarity on the other half, for both halves
   */
  heldOutGain?: [number, number];
  /** singular values of the affine's linear part relative to the similarity's scale (1 = no stretch) */
  affineStretch?: [number, number];
}

/** The candidate models the Correlate page can switch between; the kept one is also `edsToSlab`. */
export interface ModelCandidates {
  similarity: { edsToSlab: Affine2; residual?: ResidualMap };
  affine?: { edsToSlab: Affine2; residual?: ResidualMap };
  fields?: { edsToSlab: Affine2; fields: FieldCorrection[]; residual?: ResidualMap };
}

export interface Registration {
  /**
   * the face the map shows (absent = 'top'). 'bottom': registered on the volume turned upside down
   * (z' = nz - 1 - z, lib/registration/face.ts), so surface, slabToVoxel and edsToSlab are in that
   * view's frame, where the bottom face is the top; edsToVoxel is in the volume's own voxel indices
   */
  face?: Face;
  /** the model of the transform; absent in registrations written before issue 19 (= similarity or a landmark affine) */
  model?: RegistrationModel;
  modelChoice?: ModelChoice;
  /** per-field corrections when model = 'fields' (edsToSlab/edsToVoxel then hold the global part) */
  fields?: FieldCorrection[];
  residual?: ResidualMap;
  candidates?: ModelCandidates;
  edsToVoxel: Affine2to3;
  edsToSlab: Affine2;
  surface: SurfaceFit;
  slabToVoxel: Affine2to3;
  /** slab size (width, height) in pixels */
  slabSize: [number, number];
  quality: RegistrationQuality;
}
