'use client';
/**
 * One placed interior scan: where it starts, register (job) with its progress or its error in
 * plain words, the registration's quality (pose, correlation, error estimate, scale against the
 * voxel sizes, the three views with a checkerboard), its pore/solid threshold preview and painted
 * pore/solid corrections with the classifier trained on them.
 */
import type { RouterOutputs } from '@/app/_components/api-types';
import { JobLine } from './job-line';
import { PorePaint } from './pore-paint';
import { RegistrationViews } from './registration-views';
import { SegmentationPreview } from './segmentation';

type Interior = RouterOutputs['multiscale']['state']['interiors'][number];

const num = (v: number | null | undefined, d = 3) => (v == null || !Number.isFinite(v) ? '—' : v.toFixed(d));

export interface InteriorCardProps {
  projectId: string;
  it: Interior;
  selected: boolean;
  busy: boolean;
  onSelect: () => void;
  onRegister: () => void;
  onRemove: () => void;
  onThreshold: (t: number | null) => void;
  onStrokesSaved: () => void;
  onError: (m: string) => void;
  onTrainPores: () => void;
  onUsePores: (use: boolean) => void;
}

export function InteriorCard({ projectId, it, selected, busy, onSelect, onRegister, onRemove, onThreshold, onStrokesSaved, onError, onTrainPores, onUsePores }: InteriorCardProps) {
  const reg = it.registration;
  const q = reg?.quality;
  const ratio = q?.scaleRatio;
  return (
    <div className={`ms-interior card${selected ? ' selected' : ''}`} data-testid="ms-interior" data-name={it.dataset?.name ?? it.datasetId}>
      <strong>{it.dataset?.name ?? it.datasetId}</strong>
      <span className="info" data-testid="ms-start"> start at voxel ({it.start.centre.map((v) => v.toFixed(1)).join(', ')}), turn {it.start.angleDeg}°</span>
      <div className="controls">
        <button type="button" className="primary" data-testid="ms-register" disabled={!!it.registerJob?.active || busy}
          onClick={onRegister}>{it.registerJob?.active ? 'Registering…' : reg ? 'Register again' : 'Register'}</button>
        <button type="button" onClick={onSelect} disabled={selected} data-testid="ms-move">{selected ? 'Placing above' : 'Move'}</button>
        <button type="button" onClick={onRemove} disabled={!!it.registerJob?.active}>Remove</button>
      </div>
      <JobLine job={it.registerJob} what="register" failed="Registration failed" />
      {reg && (
        <div data-testid="ms-registration">
          <p className="info">
            {it.stale ? 'Registered on an earlier scan: register again. ' : ''}
            Centre ({reg.pose.centre.map((v) => v.toFixed(2)).join(', ')}) voxels, turn {reg.pose.angleDeg.toFixed(2)}°;
            correlation {num(q?.nccFinal)} (start {num(q?.nccStart)}); error estimate{' '}
            <span data-testid="ms-error-estimate">{num(q?.errorEstimateVox, 2)}</span> voxels (each half of the interior registered on its own: half their disagreement, an estimate made without the truth);
            scale found / voxel sizes {num(ratio)}{ratio != null && Number.isFinite(ratio) && Math.abs(ratio - 1) > 0.05 ? ' — the voxel sizes of the two scans may not be right' : ''}.
          </p>
          {it.views && <RegistrationViews views={it.views} />}
          {it.dataset?.shape && it.dataset.spacingUm && !it.stale && (
            <>
              <SegmentationPreview key={`${it.datasetId}:${reg.at}`} it={it} busy={busy} onThreshold={onThreshold} />
              <PorePaint projectId={projectId} it={it} busy={busy} onSaved={onStrokesSaved} onError={onError} onTrain={onTrainPores} onUse={onUsePores} />
            </>
          )}
        </div>
      )}
    </div>
  );
}
