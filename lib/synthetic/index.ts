export { generateSandstone } from './generate-sandstone';
export type { SyntheticSample } from './types';
export type { SandstoneOptions, SandstoneInput, EdsOptions, PhaseFractions } from './options';
export { DEFAULT_OPTIONS, resolveOptions } from './options';
export { EDS_LEGEND, MINERAL_TO_CLASS } from './minerals';
export { inPlaneDeterminant, isRock, type Plane } from './surface';
export { surfacePlane, makeEdsToVoxel, edsSize } from './surface';
export { randomAcquisition, REGISTRATION_RANGES, type AcquisitionRanges } from './scenarios';
export { summariseSample, type SampleSummary } from './summary';
