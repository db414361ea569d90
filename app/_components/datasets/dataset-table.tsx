/**
 * Datasets of a project with the metadata a mineralogist checks before going on: for volumes
 * shape (voxels), voxel size (µm), physical extent, dtype and channels; for EDS maps size (px),
 * pixel size (µm), the legend with area % (minor phases grouped), the unclassified share and the
 * share no field measured.
 */
import Link from 'next/link';
import { EdsLegend } from '../eds/eds-legend';
import { formatDate, formatPct, formatShape, formatSpacing, formatUm } from '../format';
import type { DatasetRow } from './dataset-row';
import { unclassifiedNote } from './eds-notes';

/** What a delete takes with it, in the words the confirmation asks with (server: forgetVolume / forgetMap). */
export function deleteQuestion(d: Pick<DatasetRow, 'name' | 'kind'>): string {
  return d.kind === 'volume'
    ? `Delete the XRM volume ${d.name}? The registrations, surface slabs, whole-volume prediction and painted strokes made on it go with it, and so does a Multi-scale composite model computed from it. The EDS maps and the trained model in use stay; a model set aside with it (when another volume was chosen) becomes the project's model if there is none, else it goes too.`
    : `Delete the EDS map ${d.name}? Its registrations and overlays go with it. The volume, the other maps and the trained model stay.`;
}

/** Rows that share their role (volume, top map, bottom map) with another: these get an "in use" / "not used" badge. */
const role = (d: DatasetRow) => (d.kind === 'volume' ? 'volume' : d.face === 'bottom' ? 'bottom' : 'top');

export function DatasetTable({ projectId, rows, onUseAsBottom, onUseVolume, switching, onDelete }: {
  projectId: string; rows: DatasetRow[]; onUseAsBottom?: (id: string) => void;
  /** a volume the project does not use: make it the one it uses (the caller asks first) */
  onUseVolume?: (id: string) => void;
  /** a switch is under way: no second one until it has finished */
  switching?: boolean;
  onDelete?: (id: string) => void;
}) {
  const shared = (d: DatasetRow) => d.inUse !== undefined && rows.filter((r) => role(r) === role(d)).length > 1;
  return (
    <table className="data" data-testid="dataset-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Kind</th>
          <th>Size</th>
          <th>Voxel / pixel size</th>
          <th>Data</th>
          <th>Created</th>
          {onDelete && <th />}
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={d.id}>
            <td>
              <Link href={`/projects/${projectId}/datasets/${d.id}`}>{d.name}</Link>
              {d.problem && <div className="small" style={{ color: 'var(--danger)' }}>{d.problem}</div>}
            </td>
            <td>
              <span className={`badge ${d.kind}`}>{d.kind === 'volume' ? 'XRM volume' : d.face === 'bottom' ? 'EDS map · bottom face' : 'EDS map'}</span>
              {shared(d) && (d.inUse
                ? <>{' '}<span className="badge ok" data-testid={`in-use-${d.id}`} title="The project's steps use this one">in use</span></>
                : <>{' '}<span className="badge muted" data-testid={`not-used-${d.id}`} title="Another dataset of this kind is the one the project's steps use (see the note above the table)">not used</span></>)}
              {shared(d) && !d.inUse && d.kind === 'volume' && d.volume && onUseVolume && (
                <div>
                  <button type="button" className="small" data-testid={`use-volume-${d.id}`} title="Make this the volume Correlate, Train and Results use (you are asked first, with what is set aside)"
                    disabled={switching} onClick={() => onUseVolume(d.id)}>Use this volume</button>
                </div>
              )}
              {d.refused && (
                <div className="small" data-testid={`refused-${d.id}`} style={{ maxWidth: 360 }}>
                  <span className="badge warn" title={d.refused}>refused as the bottom face</span>{' '}
                  <span className="muted">its registration found it is not a map of this face; the bottom face keeps the map before it.</span>
                  {onUseAsBottom && (
                    <div>
                      <button type="button" data-testid={`use-as-bottom-${d.id}`} title="Make it the bottom face's map again, to place it with landmarks on Correlate (landmarks skip the check)"
                        onClick={() => onUseAsBottom(d.id)}>Use as the bottom face</button>
                    </div>
                  )}
                </div>
              )}
            </td>
            {d.volume ? <VolumeCells v={d.volume} /> : d.eds ? <EdsCells e={d.eds} /> : <td colSpan={3} className="muted">no metadata</td>}
            <td className="num">{formatDate(d.createdAt)}</td>
            {onDelete && (
              <td>
                <button type="button" className="small" data-testid={`delete-${d.id}`} title={deleteQuestion(d)}
                  onClick={() => window.confirm(deleteQuestion(d)) && onDelete(d.id)}>Delete</button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function VolumeCells({ v }: { v: NonNullable<DatasetRow['volume']> }) {
  const [nz, ny, nx] = v.shape;
  const [sz, sy, sx] = v.spacing;
  return (
    <>
      <td className="num">
        {formatShape(v.shape)} voxels
        <div className="small muted">{formatUm(nx * sx)} × {formatUm(ny * sy)} × {formatUm(nz * sz)}</div>
      </td>
      <td className="num">
        {formatSpacing(v.spacing)}
        {v.spacingAssumed && (
          <div className="small warn-text" data-testid="spacing-assumed" style={{ maxWidth: 280, fontFamily: "system-ui, 'DejaVu Sans', sans-serif" }}>
            assumed: the file gives no voxel size. Every µm (scale bars, registration scale, depths) rests on it: delete the volume and upload it again with its voxel size in the box above.
          </div>
        )}
      </td>
      <td>
        <code>{v.dtype}</code> · {v.channels.length} channel{v.channels.length === 1 ? '' : 's'}
        <div className="small muted">{v.channels.join(', ')} · {v.levelShapes.length} pyramid level{v.levelShapes.length === 1 ? '' : 's'}</div>
      </td>
    </>
  );
}

function EdsCells({ e }: { e: NonNullable<DatasetRow['eds']> }) {
  return (
    <>
      <td className="num">
        {e.width} × {e.height} px
        <div className="small muted">{formatUm(e.width * e.pixelSizeUm)} × {formatUm(e.height * e.pixelSizeUm)}</div>
      </td>
      <td className="num">{formatUm(e.pixelSizeUm)} / px</td>
      <td style={{ minWidth: 260 }}>
        <div className="small muted">
          {e.sampleName && <>sample {e.sampleName} · </>}
          {e.legend.length} phases · unclassified {formatPct(e.unclassifiedFraction)}
          {e.notMeasuredFraction ? <> · not measured {formatPct(e.notMeasuredFraction)}</> : null}
          {e.companions.length > 0 && ` · images: ${e.companions.join(', ')}`}
        </div>
        <div style={{ columns: 2, columnGap: '1rem' }}>
          <EdsLegend legend={e.legend} totalPixels={e.width * e.height} light />
        </div>
        {unclassifiedNote(e.unclassifiedFraction) && (
          <div className="small warn-text" data-testid="unclassified-note" style={{ maxWidth: 420 }}>{unclassifiedNote(e.unclassifiedFraction)}</div>
        )}
      </td>
    </>
  );
}
