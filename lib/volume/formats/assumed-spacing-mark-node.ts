/**
 * The mark petromap's own exports carry when the scan's voxel size was assumed at import (the file
 * gave none and 1 µm was taken; lib/report/volume-headers ASSUMED_SPACING_NOTE): NRRD's key
 * `petromap_spacing_assumed:=true`, NIfTI's "unknown" units with a descrip starting with the note.
 * Read back, the file's voxel size is kept but not known (spacingKnown false): importing such an
 * export marks its store "assumed" and every command warns, as for the scan it came from. Before, the
 * export imported as a measured 1 µm. Files without the mark read as before.
 */
import { ASSUMED_SPACING_NOTE } from '../../report/volume-headers';
import type { VolumeFileDescription } from './volume-reader';

export { ASSUMED_SPACING_NOTE };

/** The description of a file that carries the mark: its voxel size kept, said to be assumed (the note names --spacing). */
export function markedAssumed(desc: VolumeFileDescription, what: string): VolumeFileDescription {
  const s = desc.spacingUm;
  const um = s.every((v) => v === s[0]) ? `${+s[0].toPrecision(7)} µm` : `${s.map((v) => +v.toPrecision(7)).join(' x ')} µm (z, y, x)`;
  const note = `petromap wrote this ${what} from a scan whose voxel size was assumed at import, not measured, and marked it so: `
    + `its ${um} is kept and marked assumed again (give the real voxel size with --spacing z,y,x)`;
  return { ...desc, spacingKnown: false, notes: [...desc.notes.filter((n) => !/gives no length unit/.test(n)), note] };
}
