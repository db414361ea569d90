/**
 * The mineral side of the synthetic truth: class codes, the EDS legend (richer than the classes,
 * as real EDS phase libraries are), XRM grey levels and BSE brightness per mineral.
 */
import { SANDSTONE_CLASSES, type SandstoneClassName } from '../classes';
import type { MineralPhase } from '../eds/types';

/** Class codes by name, from lib/classes' SANDSTONE_CLASSES (the one table of them). */
export const CLASS = Object.fromEntries(SANDSTONE_CLASSES.map((c) => [c.name, c.code])) as {
  readonly [K in SandstoneClassName]: Extract<(typeof SANDSTONE_CLASSES)[number], { name: K }>['code'];
};

/** EDS legend. Colours follow common automated-mineralogy palettes; unclassified (0) is black. */
export const EDS_LEGEND: MineralPhase[] = [
  { id: 1, name: 'Quartz', color: [236, 220, 180] },
  { id: 2, name: 'K-feldspar', color: [250, 140, 60] },
  { id: 3, name: 'Albite', color: [90, 170, 250] },
  { id: 4, name: 'Kaolinite', color: [170, 230, 130] },
  { id: 5, name: 'Illite', color: [70, 140, 70] },
  { id: 6, name: 'Pyrite', color: [255, 230, 0] },
  { id: 7, name: 'Pore/Epoxy', color: [40, 40, 110] },
];

export const MINERAL_TO_CLASS: Record<string, number> = {
  Quartz: CLASS.quartz,
  'K-feldspar': CLASS.feldspar,
  Albite: CLASS.feldspar,
  Kaolinite: CLASS.clay,
  Illite: CLASS.clay,
  Pyrite: CLASS.pyrite,
  'Pore/Epoxy': CLASS.pore,
};

/** EDS phase id of a voxel from its class and the variant bit of its grain (or nearest grain). */
export function mineralId(cls: number, variant: number): number {
  switch (cls) {
    case CLASS.quartz:
      return 1;
    case CLASS.feldspar:
      return variant ? 3 : 2;
    case CLASS.clay:
      return variant ? 5 : 4;
    case CLASS.pyrite:
      return 6;
    case CLASS.pore:
      return 7;
    default:
      return 0;
  }
}

/**
 * Effective mean atomic number per EDS phase id (index = id), driving BSE brightness.
 * Clays are lowered for their microporosity; index 0 (outside the sample) is the epoxy mount.
 */
export const MEAN_Z = [6.3, 10.8, 11.9, 10.7, 9.4, 10.3, 20.7, 6.3];

/** XRM grey levels relative to quartz: quartz and feldspar within a few percent, as in real scans. */
export const QUARTZ_GREY = 20000;
export const GREY = {
  air: 0.1,
  pore: 0.2,
  quartz: 1.0,
  kFeldspar: 1.04,
  albite: 1.0,
  clay: 0.62,
  pyrite: 2.6,
};
