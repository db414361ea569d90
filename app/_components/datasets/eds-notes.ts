/**
 * Notes the Data step adds to an EDS map's row when the map, as imported, will not do what a
 * mineralogist expects of it.
 */
import { formatPct } from '../format';

/** From this unclassified share on, the row says what unclassified pixels do (and do not do). */
export const LARGE_UNCLASSIFIED = 0.1;

/**
 * A large unclassified share, in words. Legend entries named "Unclassified", "Unknown", "Not
 * analysed"… (and black pixels the legend does not name) import as unclassified: they give no
 * training labels and Auto-register ignores them. If they are resin-filled pores under another name,
 * the pores never train and the registration loses its strongest contrast (N5's test map with 19 %
 * resin imported as unclassified: Auto-register 130° off, doubtful; the same map with it named
 * "Resin": confirmed, 0.35 voxel, and the pores trained). "Background" itself is read as the resin
 * since stop 33 (lib/eds/legend.ts).
 */
export function unclassifiedNote(unclassifiedFraction: number | null | undefined): string | null {
  if (unclassifiedFraction == null || !(unclassifiedFraction >= LARGE_UNCLASSIFIED)) return null;
  return `${formatPct(unclassifiedFraction)} of the map is unclassified (legend entries named “Unclassified”, “Unknown”, “Not analysed”…, and black pixels the legend does not name): these pixels give no training labels and Auto-register does not match them. If they are resin-filled pores, give that colour a name in legend.csv, e.g. “Pores,0,0,0” (“Background”, “Resin” and “Epoxy” are read as pore already), delete this map and upload it again: the pores then train the pore class and give the registration its strongest contrast.`;
}
