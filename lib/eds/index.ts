/**
 * Public API of lib/eds. Framework-free parts only; Node-only import/storage live in
 * ./import-node and ./store-node (import them directly from Node code).
 */
export type { MineralMap, MineralPhase, CompanionImage } from './types';
export { unclassifiedFraction, notMeasuredFraction, unclassifiedPixels, notMeasuredPixels } from './types';
export { groupMinorPhases, phaseAreas, phasePixelCounts, MINOR_PHASE_PX, type PhaseArea, type MinorPhases, type GroupedLegend } from './minor-phases';
export { parseTimaProjectData, parseTimaProjectStruct, parseTimaSurveys, timaProjectEntries, findTimaProjectEntry, type TimaProjectEntry } from './tima-project';
export { renderMineralMapPreview, previewLegendRows, type PreviewOptions } from './preview';
export { parseLegend, legendFromEntries, isUnclassifiedName, parseHexColor, parseColourCell, rgbToHex, type ParsedLegend, type UnclassifiedEntry, type Rgb } from './legend';
export { decodeRaster, isPng, isTiff, type Raster, type ColourRaster, type ScalarRaster } from './raster';
export {
  parseTimaMeasurement, parseTimaFields, parseTimaPhases, placeTimaFields, stitchTimaFields, timaLegend, timaStageUnitUm,
  type TimaMeasurement, type TimaField, type TimaPhase, type TimaFieldImages, type StitchedTima,
} from './tima';
export { mineralAreaFractions, renderMineralMapPng, renderCompanionPng, percentiles } from './render';
