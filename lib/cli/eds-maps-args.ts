/**
 * Several EDS maps on one command line (issue 15 §1: the top and the bottom face of a sample):
 * the map option (`--eds` or `--map`) is repeatable, and `--face top|bottom`, `--legend`,
 * `--pixel-um` qualify the map written before them (written before the first map, they qualify the
 * first, so `--legend l.csv --eds map.png` keeps working). A map without `--face` shows the top face.
 */
import { invalidInput } from '../errors';
import { shortUsage } from './args';
import type { Face } from '../registration/types';

export interface EdsMapArg {
  path: string;
  face: Face;
  legend?: string;
  pixelUm?: number;
}

/** The qualifiers a map can carry, by option name. */
const QUALIFIERS = { face: 'face', legend: 'legend', 'pixel-um': 'pixelUm' } as const;

/** The maps of a parsed command line (parseCommandArgs' `sequence`), in the order written. */
export function edsMapsFromSequence(sequence: { name: string; value: unknown }[], mapOption: string, usage: string): EdsMapArg[] {
  const maps: Partial<EdsMapArg>[] = [];
  const pending: { name: string; value: unknown }[] = [];
  const qualify = (m: Partial<EdsMapArg>, o: { name: string; value: unknown }) => {
    const key = QUALIFIERS[o.name as keyof typeof QUALIFIERS];
    if (m[key] !== undefined) throw invalidInput(`--${o.name} is given twice for the EDS map ${m.path}: --face, --legend and --pixel-um qualify the --${mapOption} written before them. ${shortUsage(usage)}`);
    (m as Record<string, unknown>)[key] = o.value;
  };
  for (const o of sequence) {
    if (o.name === mapOption) {
      const m: Partial<EdsMapArg> = { path: o.value as string };
      if (!maps.length) for (const p of pending) qualify(m, p);
      maps.push(m);
    } else if (o.name in QUALIFIERS) {
      if (maps.length) qualify(maps[maps.length - 1]!, o);
      else pending.push(o);
    }
  }
  return maps.map((m) => ({ ...m, path: m.path!, face: m.face ?? 'top' }));
}

/** The maps with the (first) top face's map first: the run's depth profile and modal mineralogy are of the top face. */
export function topMapFirst(maps: EdsMapArg[], mapOption: string): EdsMapArg[] {
  const k = maps.findIndex((m) => m.face === 'top');
  if (k < 0) throw invalidInput(`Give the map of the top face too (--${mapOption} without --face, or with --face top): the run registers it first, and its depth profile and modal mineralogy are of the top face; a bottom face's map adds labels to it.`);
  return [maps[k]!, ...maps.filter((_, i) => i !== k)];
}
