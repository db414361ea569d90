/**
 * The truth-free estimate of the 3D map's quality (lib/classify/quality-estimate), beside the
 * surface metrics on the Train and Results pages, each number with a plain sentence on what it means.
 */
import { QUALITY_EXPLAINED, type QualityEstimate } from '@/lib/classify/quality-text';
import { formatPct } from '../format';

export function QualityCard({ q, compact = false }: { q: QualityEstimate | null | undefined; compact?: boolean }) {
  if (!q) return null;
  const rows: [string, string, string, string][] = [
    ['Estimated 3D mean IoU', formatPct(q.meanIoU), QUALITY_EXPLAINED.meanIoU, 'quality-3d'],
    ['Surface check (held-out tiles)', formatPct(q.surfaceMeanIoU), QUALITY_EXPLAINED.surfaceMeanIoU, 'quality-surface'],
    ['Agreement of two half-models', `surface ${formatPct(q.crossHalf)} · depth ${formatPct(q.depthAgreement)}`, QUALITY_EXPLAINED.agreement, 'quality-agreement'],
    ['Confidence', `surface ${formatPct(q.surfaceConfidence)} · depth ${formatPct(q.depthConfidence)}`, QUALITY_EXPLAINED.confidence, 'quality-confidence'],
    ['Outside the training range', formatPct(q.outOfRange), QUALITY_EXPLAINED.outOfRange, 'quality-outside'],
  ];
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
    </section>
  );
}
