/**
 * Which volume and which EDS map the project's steps use, once a project holds more than one (a new
 * user uploaded a second volume and nothing said which one Correlate and Train took). The server
 * marks them (datasets.list's inUse: the volume the user chose, else the first that imported; the
 * first map); this says it in words, and words the question a volume switch asks first.
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
      ? `The project's large scan is the volume ${vol.name}: Annotate, Correlate, Train and Results use it; the other ${one ? 'volume' : 'volumes'} (${names(others)}) can be placed as interior scans on Multi-scale, or made the large scan with “Use this volume” on ${one ? 'its' : 'their'} row.`
      : `The project uses the volume ${vol.name}: ${names(others)} ${one ? 'is' : 'are'} not used by Correlate, Train or Results. To use ${one ? 'it' : 'another'} instead, click “Use this volume” on ${one ? 'its' : 'that'} row: what was made from ${vol.name} is set aside with it and comes back if you choose it again.`);
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

/** What datasets.volumeSwitch answers: the volume used now, what goes aside with it, what comes back. */
export interface VolumeSwitchPlan {
  from: { name: string } | null;
  to: { name: string };
  aside: string[];
  back: string[];
}

const list = (xs: string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);

/** The question the Data step asks before switching the project to another volume. */
export function switchQuestion(p: VolumeSwitchPlan, projectKind: 'mineralogy' | 'lithology' | undefined): string {
  const lines = [`Use the volume ${p.to.name} for this project${p.from ? ` instead of ${p.from.name}` : ''}?`];
  if (p.from) {
    lines.push(p.aside.length
      ? `Set aside with ${p.from.name} (not used for ${p.to.name}; it all comes back if you choose ${p.from.name} again): ${list(p.aside)}.`
      : `Nothing was made from ${p.from.name} yet.`);
  }
  lines.push(p.back.length
    ? `Back with ${p.to.name}, as you left it: ${list(p.back)}.`
    : `${p.to.name} starts afresh: ${projectKind === 'lithology' ? 'paint it on Annotate and predict its lithology map' : 'find its surface and register the EDS map on Correlate, then train and predict'}.`);
  return lines.join('\n\n');
}
