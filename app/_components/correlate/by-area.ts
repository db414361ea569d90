/**
 * The one order of a map's minerals on every page (Correlate's class table, Train's): largest area
 * first, minerals the legend gives no area last, in legend order among equals (a new user met the
 * legend's order on Train and the area order on Correlate).
 */
export function byArea<T extends { phaseId: number }>(rows: readonly T[], legend: readonly { id: number; areaFraction?: number }[] | undefined): T[] {
  const area = new Map((legend ?? []).map((l) => [l.id, l.areaFraction ?? -1]));
  return [...rows].sort((a, b) => (area.get(b.phaseId) ?? -1) - (area.get(a.phaseId) ?? -1));
}
