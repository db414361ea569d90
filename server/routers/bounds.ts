/**
 * Upper bounds of the work a request can ask for (issue 12, item 12), chosen from lib's defaults:
 * - feature specs: the Train step's picker offers intensity plus 8 filters at 6 scales (49 specs);
 *   lib/features' default bank has 38 and lib/classify's classifier bank 26.
 * - scales: the default banks stop at 10 voxels (lib/features DEFAULT_SIGMAS_VOX, non-local mean
 *   10 voxels; lib/classify 5). A filter reads 4 sigma of halo on each side (lib/features plan
 *   TRUNCATE), so a scale of 16 voxels already reads 64 voxels around every brick. In µm, a scale
 *   is checked against the project's volume (at most MAX_SIGMA_VOX of its smallest voxel size);
 *   MAX_SIGMA_UM is the absolute cap before any volume is known (10 voxels of 50 µm).
 * - epochs: lib/classify trains 20 by default and stops early after 8 without gain; the server
 *   default is 40.
 * - hidden layers: lib/classify uses 48 x 48 (server 64 x 64).
 * - field of view of the scan proposals: 100 mm, far above any scan.
 */
export const MAX_FEATURE_SPECS = 50;
export const MAX_SIGMA_UM = 500;
export const MAX_SIGMA_VOX = 16;
export const MAX_EPOCHS = 100;
export const MAX_HIDDEN_WIDTH = 256;
export const MAX_HIDDEN_LAYERS = 4;
export const MAX_FOV_UM = 100_000;
