/**
 * The Correlate status: surface (depth, tilt, fit), registration (source, accepted) and its
 * quality figures, in the words and units a mineralogist checks a registration by.
 */
import type { RouterOutputs } from '../api-types';
import { formatPct } from '../format';
import { rms } from './landmarks';
import { affineRotationDeg, affineScale, fmt } from './overlay';

const REFINED: Record<string, string> = { elastix: 'refined by elastix', ratio: 'refined by correlation-ratio hill climb' };

export type CorrelateState = RouterOutputs['correlate']['state'];

/**
 * The mutual-information figure of a registration. "Before" is measured at the pose the refinement
 * started from: the automatic search's (which climbs already) or the landmark fit's. When the
 * refinement kept that pose (elastix explained the slab no better, the model choice kept the
 * similarity), before and after are one pose and one value: shown once, with why.
 */
export function miText(before: number, after: number, initialisation: 'landmarks' | 'automatic'): string {
  const start = initialisation === 'landmarks' ? 'the landmark fit' : "the automatic search's pose";
  if (fmt(before, 3) === fmt(after, 3)) return `mutual information ${fmt(after, 3)} (at ${start}: the refinement kept it)`;
  return `mutual information ${fmt(before, 3)} at ${start} → ${fmt(after, 3)} refined`;
}

const CONFIDENCE_TITLE = 'Without ground truth: the map is cut into parts, each matched to the slab on its own; on a right registration the parts held out of the fit agree with it to a fraction of a voxel, ' +
  'and the search\'s best pose matches clearly better than any other. A wrong pixel or voxel size, the other face or another sample\'s map fails this (measured on synthetic and independent test rocks: docs/registration-confidence.md).';

/** The stored registration's confidence (lib/registration/confidence.ts), or undefined (landmark fits, older registrations). */
export function confidenceOfState(reg: CorrelateState['registration']) {
  const q = reg?.quality;
  return q && 'confidence' in q ? q.confidence : undefined;
}

export function StatusLine({ state, voxelUm }: { state: CorrelateState; voxelUm: number }) {
  const { slab, registration: reg } = state;
  const q = reg?.quality;
  const res = q?.landmarkResiduals ?? [];
  const r = res.length ? rms(res) : NaN;
  const conf = confidenceOfState(reg);
  return (
    <div className="corr-status" data-testid="correlate-status">
      <div data-testid="surface-line">
        <strong>{state.face === 'bottom' ? 'Bottom surface' : 'Surface'}</strong>{' '}
        {slab ? (
          <>
            depth <span className="num">{fmt(slab.depthVox, 1)}</span> voxels ({fmt(slab.depthVox * voxelUm, 0)} µm) {state.face === 'bottom' ? 'above the bottom' : 'below the top'} of the
            volume{state.face === 'bottom' ? ' (tilt and azimuth in the volume turned upside down)' : ''} · tilt <span className="num">{fmt(slab.surface.tiltDeg, 2)}°</span> toward{' '}
            <span className="num">{fmt(slab.surface.azimuthDeg, 0)}°</span> · plane fit RMS{' '}
            <span className="num">{fmt(slab.surface.residualRms, 2)}</span> voxels, {formatPct(slab.surface.inlierFraction, 0)} inliers ·
            slab {slab.width} × {slab.height} px
          </>
        ) : (
          <span className="muted">not found yet</span>
        )}
      </div>
      <div data-testid="registration-line">
        <strong>Registration</strong>{' '}
        {reg ? (
          <>
            {reg.source === 'auto'
              ? `automatic${q?.initialisation === 'landmarks' ? ' (started from landmarks)' : ''}${q?.refinedBy && REFINED[q.refinedBy] ? `, ${REFINED[q.refinedBy]}` : ''}`
              : 'from landmarks'}{' '}
            · <span title="EDS pixel → slab pixel: rotation and scale of the fitted map">
              rotation <span className="num">{fmt(affineRotationDeg(reg.edsToSlab), 1)}°</span>, scale{' '}
              <span className="num">{fmt(affineScale(reg.edsToSlab), 3)}</span> voxels per EDS pixel
              {reg.edsToSlab[0]! * reg.edsToSlab[4]! - reg.edsToSlab[1]! * reg.edsToSlab[3]! < 0 ? ', mirrored' : ''}
            </span>{' '}
            ·{' '}
            {reg.accepted ? (
              <span className="badge ok" data-testid="accepted-badge">accepted{conf?.verdict === 'doubtful' && reg.overlayChecked ? ' (overlay checked by you)' : ''}</span>
            ) : (
              <span className="badge warn" data-testid="unaccepted-badge">not accepted yet</span>
            )}
          </>
        ) : (
          <span className="muted">none yet — click landmark pairs or run Auto-register</span>
        )}
      </div>
      {conf && (
        <div data-testid="confidence-line" className="small">
          <strong>Confidence</strong>{' '}
          <span className={`badge ${conf.verdict === 'confirmed' ? 'ok' : 'warn'}`} data-testid="confidence-verdict">{conf.verdict === 'confirmed' ? 'confirmed' : 'doubtful'}</span>{' '}
          <span title={CONFIDENCE_TITLE}>{conf.reason}</span>
        </div>
      )}
      {reg && (
        <div data-testid="quality-line" className="small">
          <strong>Quality</strong>{' '}
          {q?.miBefore != null && q?.miAfter != null && (
            <span data-testid="mi-line" title="Mutual information (nats) between slab grey and EDS mineral: at the pose the registration started from (the automatic search's, or the landmark fit's) and at the final pose">
              {miText(q.miBefore, q.miAfter, q.initialisation)} ·{' '}
            </span>
          )}
          {q?.scoreAfter != null && <span title="Correlation ratio η² of slab grey explained by the EDS minerals (1 = perfect)">η² {fmt(q.scoreAfter, 2)} · </span>}
          {q?.coverage != null && <span title="Share of the EDS map rectangle that lands inside the volume">coverage {formatPct(q.coverage, 0)} · </span>}
          {state.eds && (
            <span data-testid="coverage-eds" title="EDS pixels that carry no mineral: left out of the registration score and of the training labels">
              {state.eds.notMeasuredFraction > 0 && <>not measured {formatPct(state.eds.notMeasuredFraction, 0)} of the map · </>}
              unclassified {formatPct(state.eds.unclassifiedFraction, 1)} ·{' '}
            </span>
          )}
          {Number.isFinite(r) && (
            <>landmark RMS {fmt(r, 2)} voxels ({fmt(r * voxelUm, 1)} µm) · </>
          )}
          {reg.truthError ? (
            <span data-testid="truth-error" className={reg.truthError.meanVox < 1 ? 'good' : 'bad'}>
              error vs ground truth: mean {fmt(reg.truthError.meanVox, 2)} / max {fmt(reg.truthError.maxVox, 2)} voxels
            </span>
          ) : (
            <span className="muted">no ground truth for this sample</span>
          )}
        </div>
      )}
    </div>
  );
}
