/**
 * The truth-free estimate of the 3D map's quality (lib/classify/quality-estimate), beside the
 * surface metrics on the Train and Results pages, each number with a plain sentence on what it
 * means, and the measures per class when the model kept them.
 */
import { estimateMargin, QUALITY_EXPLAINED, type QualityEstimate } from '@/lib/classify/quality-text';
import { formatPct } from '../format';

/** the per-class sentence's clause about a column shown only when the half-models were trained */
const HALVES_CLAUSE = ', how often the two half-models agree in depth (when they were trained)';

/**
 * The range the estimate stands for (its sentence says how it is set: about ±0.05, wider where many
 * voxels in depth look unlike any labelled one), as numbers beside it: on a test rock made by someone
 * else the sentence alone left the number read as exact.
 */
function likelyRange(q: QualityEstimate): string {
  if (!Number.isFinite(q.meanIoU)) return '';
  const m = estimateMargin(q.outOfRange);
  return ` (likely ${formatPct(Math.max(0, q.meanIoU - m), 0)}–${formatPct(Math.min(1, q.meanIoU + m), 0)})`;
}

export function QualityCard({ q, compact = false, classes }: { q: QualityEstimate | null | undefined; compact?: boolean; classes?: { code: number; name: string }[] }) {
  if (!q) return null;
  // the half-models are a diagnostic trained on request only (null/NaN when not made)
  const halves = Number.isFinite(q.crossHalf) || Number.isFinite(q.depthAgreement);
  const rows: [string, string, string, string][] = [
    ['Estimated 3D mean IoU', `${formatPct(q.meanIoU)}${likelyRange(q)}`, QUALITY_EXPLAINED.meanIoU, 'quality-3d'],
    ['Surface check (held-out tiles)', formatPct(q.surfaceMeanIoU), QUALITY_EXPLAINED.surfaceMeanIoU, 'quality-surface'],
    ...(halves ? [['Agreement of two half-models', `surface ${formatPct(q.crossHalf)} · depth ${formatPct(q.depthAgreement)}`, QUALITY_EXPLAINED.agreement, 'quality-agreement'] as [string, string, string, string]] : []),
    ['Confidence', `surface ${formatPct(q.surfaceConfidence)} · depth ${formatPct(q.depthConfidence)}`, QUALITY_EXPLAINED.confidence, 'quality-confidence'],
    ['Outside the training range', formatPct(q.outOfRange), QUALITY_EXPLAINED.outOfRange, 'quality-outside'],
  ];
  const name = (code: number) => classes?.find((c) => c.code === code)?.name ?? `class ${code}`;
  return (
    <section className="card" data-testid="quality-estimate">
      <h3>How good is the 3D map? <span className="muted small">(estimated without 3D truth, from {q.sampled} voxels in depth)</span></h3>
      <table className="metrics">
        <tbody>
          {(compact ? rows.slice(0, 2) : rows).map(([label, value, text, id]) => (
            <tr key={id}>
              <td>{label}</td>
              <td className="r num" data-testid={id} style={{ whiteSpace: 'nowrap' }}><strong>{value}</strong></td>
              <td className="muted small">{text}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {q.perClass?.length ? (
        <>
          <table className="metrics" data-testid="quality-per-class" style={{ marginTop: '0.5rem' }}>
            <thead>
              <tr><th>class</th><th className="r">estimated 3D IoU</th><th className="r">surface check</th>{halves ? <th className="r">half-models agree in depth</th> : null}<th className="r">share in depth · in the EDS map</th></tr>
            </thead>
            <tbody>
              {q.perClass.map((c) => (
                <tr key={c.class} data-testid={`quality-class-${c.class}`}>
                  <td>{name(c.class)}</td>
                  <td className="r num"><strong>{formatPct(c.estimate, 0)}</strong></td>
                  <td className="r num">{formatPct(c.surfaceIoU, 0)}</td>
                  {halves ? <td className="r num">{formatPct(c.depthAgreement, 0)}</td> : null}
                  <td className="r num">{formatPct(c.depthShare, 1)} · {formatPct(c.labelShare, 1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small" data-testid="quality-per-class-text">{halves ? QUALITY_EXPLAINED.perClass : QUALITY_EXPLAINED.perClass.replace(HALVES_CLAUSE, '')}</p>
        </>
      ) : null}
    </section>
  );
}
