/**
 * Which volume and which EDS map the project's steps use, once a project holds more than one (a new
 * user uploaded a second volume and nothing said which one Correlate and Train took). The server
 * marks them (datasets.list's inUse: the first of each that imported); this says it in words.
 */
import type { DatasetRow } from './dataset-row';

const names = (rows: DatasetRow[]) => rows.map((r) => r.name).join(', ');

/** Sentences for the Data step, empty when every kind has at most one dataset. */
export function inUseNote(rows: DatasetRow[], projectKind: 'mineralogy' | 'lithology' | undefined): string[] {
  const out: string[] = [];
  const volumes = rows.filter((r) => r.kind === 'volume');
  const vol = volumes.find((r) => r.inUse);
  if (volumes.length > 1 && vol) {
    const others = volumes.filter((r) => r !== vol);
    const one = others.length === 1;
    out.push(projectKind === 'lithology'
      ? `The project's large scan is the volume ${vol.name} (the first one uploaded): Annotate, Correlate, Train and Results use it; the other ${one ? 'volume' : 'volumes'} (${names(others)}) can be placed as interior scans on Multi-scale. To make another the large scan, delete ${vol.name}.`
      : `The project uses the volume ${vol.name} (the first one uploaded): ${names(others)} ${one ? 'is' : 'are'} not used by Correlate, Train or Results. To use ${one ? 'it' : 'another'} instead, delete ${vol.name}.`);
  }
  const maps = rows.filter((r) => r.kind === 'eds' && r.face !== 'bottom');
  const map = maps.find((r) => r.inUse);
  if (maps.length > 1 && map) {
    const others = maps.filter((r) => r !== map);
    const one = others.length === 1;
    out.push(`Correlate and Train use the EDS map ${map.name} of the top face (the first one uploaded): ${names(others)} ${one ? 'is' : 'are'} not used. To use ${one ? 'it' : 'another'} instead, delete ${map.name}.`);
  }
  return out;
}
