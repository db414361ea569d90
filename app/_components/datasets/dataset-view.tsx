'use client';
/**
 * One dataset: a volume opens in the orthogonal slice viewer, an EDS map in the map viewer.
 * The viewers are canvas components loaded client-side only (they measure the window).
 */
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/app/_trpc/client';
import { formatShape, formatSpacing, formatUm } from '../format';
import { toDatasetRow } from './to-dataset-row';

const OrthoViewer = dynamic(() => import('../viewer/ortho-viewer').then((m) => m.OrthoViewer), { ssr: false });
const EdsView = dynamic(() => import('../eds/eds-view').then((m) => m.EdsView), { ssr: false });

export function DatasetView({ projectId, datasetId }: { projectId: string; datasetId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.datasets.byId.queryOptions({ id: datasetId }));
  if (q.isPending) return <p className="muted">Loading dataset…</p>;
  if (q.error) {
    return (
      <div className="error">
        Could not open dataset {datasetId}: {q.error.message} <Link href={`/projects/${projectId}`}>Back to the datasets</Link>
      </div>
    );
  }
  const d = toDatasetRow(q.data);
  return (
    <>
      <div className="page-head">
        <span className="crumbs"><Link href={`/projects/${projectId}`}>Datasets</Link> /</span>
        <h2 data-testid="dataset-name">{d.name}</h2>
        {d.volume && (
          <span className="muted small num">
            {formatShape(d.volume.shape)} voxels · {formatSpacing(d.volume.spacing)} · {d.volume.dtype}
          </span>
        )}
        {d.eds && (
          <span className="muted small num">
            {d.eds.width} × {d.eds.height} px · {formatUm(d.eds.pixelSizeUm)} / px · {d.eds.legend.length} phases
          </span>
        )}
      </div>
      {d.problem && <div className="error">{d.problem}</div>}
      {d.volume && <OrthoViewer info={d.volume} />}
      {d.eds && <EdsView info={d.eds} />}
    </>
  );
}
