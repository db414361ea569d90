/**
 * Notes the Data step adds to an EDS map's row when the map, as imported, will not do what a
 * mineralogist expects of it.
 */
import { formatPct } from '../format';

/** From this unclassified share on, the row says what unclassified pixels do (and do not do). */
export const LARGE_UNCLASSIFIED = 0.1;

/**
 * A large unclassified share, in words. Legend entries named "Unclassified", "Unknown", "Not
 * analysed", "Background"… (and black pixels the legend does not name) import as unclassified:
 * they give no training labels and Auto-register ignores them. Many EDS programs export the
 * resin-filled pores as "Background": imported so, the pores never train and the registration loses
 * its strongest contrast (N5's test map with 19 % resin named "Background": Auto-register 130° off,
 * doubtful; the same map with it named "Resin": confirmed, 0.35 voxel, and the pores trained).
 */
export function unclassifiedNote(unclassifiedFraction: number | null | undefined): string | null {
  if (unclassifiedFraction == null || !(unclassifiedFraction >= LARGE_UNCLASSIFIED)) return null;
  return `${formatPct(unclassifiedFraction)} of the map is unclassified (legend entries named “Unclassified”, “Background”, “Unknown”…, and black pixels the legend does not name): these pixels give no training labels and Auto-register does not match them. If they are resin-filled pores (many EDS programs export these as “Background”), give that colour a mineral name in legend.csv, e.g. “Pores,0,0,0”, delete this map and upload it again: the pores then train the pore class and give the registration its strongest contrast.`;
}
