import type { Affine2to3 } from '../coords';
import type { MineralMap } from '../eds/types';
import type { DenseVolume } from '../volume/types';
import type { SandstoneOptions } from './options';
import type { Plane } from './surface';

export interface SyntheticSample {
  /** XRM-like greyscale, (z, y, x) */
  volume: DenseVolume<'uint16'>;
  /** class code per voxel (lib/classes.ts): 0 air above the surface, 1 pore, 2 quartz, 3 feldspar, 4 clay, 5 pyrite */
  truthLabels: Uint8Array;
  /** EDS map of the polished surface at its own pixel size, rotated/offset/mirrored, with a 'BSE' companion */
  eds: MineralMap;
  truth: {
    /** exact: EDS pixel (u, v) centre -> voxel index (z, y, x) on the surface plane */
    edsToVoxel: Affine2to3;
    /** plane z = a*x + b*y + c in voxel indices through the centres of the first rock voxel layer */
    surface: Plane;
    /** EDS legend name -> class code */
    mineralToClass: Record<string, number>;
    params: SandstoneOptions;
  };
}
