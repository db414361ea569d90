/**
 * Minerals of the EDS map that no class takes, said on the command line before training (the web
 * app's class map names them and their area; `train` and `run` dropped them without a word: on the
 * real TIMA export, hematite-magnetite, 53 % of the map, would train nothing). Also the minerals a
 * class table names that the legend lacks (a typo in the table drops a mineral the same way).
 */
import type { MineralMap } from '../eds/types';
import { phaseAreas } from '../eds/minor-phases';

/** One line (without the command prefix), or undefined when every mineral with pixels has a class. */
export function droppedMineralsNote(
  map: Pick<MineralMap, 'labels' | 'legend' | 'source'>,
  classMap: Record<number, number | null>,
  table?: { minerals: string[] }[],
  /** false for a further map (the bottom face): the table may name minerals only the other face has */
  checkTableNames = true,
): string | undefined {
  const parts: string[] = [];
  const dropped = phaseAreas(map).filter((p) => p.id !== 0 && p.pixels > 0 && (classMap[p.id] ?? null) === null).sort((a, b) => b.pixels - a.pixels);
  const pct = (f: number) => (f >= 0.001 ? `${(100 * f).toFixed(1)} %` : '< 0.1 %');
  if (dropped.length) {
    const total = dropped.reduce((s, p) => s + p.areaFraction, 0);
    const shown = dropped.slice(0, 5).map((p) => `${p.name} (${pct(p.areaFraction)})`).join(', ');
    parts.push(`${dropped.length} mineral${dropped.length > 1 ? 's' : ''} of ${map.source ?? 'the EDS map'} ${dropped.length > 1 ? 'have' : 'has'} no class and ${dropped.length > 1 ? 'are' : 'is'} not trained on, ${pct(total)} of the map: ` +
      `${shown}${dropped.length > 5 ? `, and ${dropped.length - 5} more` : ''}; ` +
      (table ? 'add them to the class table (--classes) to keep them.' : 'give a class table (--classes classes.json: [{ "code", "name", "minerals": [...] }]) to keep them.'));
  }
  if (table && checkTableNames) {
    const names = new Set(map.legend.map((p) => p.name.toLowerCase()));
    const unknown = table.flatMap((e) => e.minerals).filter((m) => !names.has(m.toLowerCase()));
    if (unknown.length) parts.push(`the class table names ${unknown.slice(0, 5).map((m) => `"${m}"`).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}, which the legend lacks (spelling?).`);
  }
  return parts.length ? parts.join(' Also, ') : undefined;
}

/** The minerals of a map with pixels that no class takes (the model reads their rock as one of its classes). */
export function untrainedMinerals(map: Pick<MineralMap, 'labels' | 'legend'>, classMap: Record<number, number | null>): string[] {
  return phaseAreas(map).filter((p) => p.id !== 0 && p.pixels > 0 && (classMap[p.id] ?? null) === null).map((p) => p.name);
}

/**
 * What the estimate does not count: the rock of minerals no class takes is predicted as one of the
 * trained classes, and the held-out tiles it is measured on leave those minerals out (before, a map
 * with 28 % untrained calcite and apatite read "estimated 3D mean IoU 0.878" and nothing more).
 */
export function untrainedCaveat(untrained: ReadonlySet<string>): string {
  if (!untrained.size) return '';
  const names = [...untrained];
  const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  return `; over the trained classes only: the rock of ${shown}, which ${names.length > 1 ? 'have' : 'has'} no class, is predicted as one of them and this estimate does not count it`;
}
