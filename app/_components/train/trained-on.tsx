/**
 * What the model in use was trained on, in words (the model's record `trainedOn`,
 * docs/model-record.md), for the Train and Results pages: the volume's name, its size and voxel
 * size; that the volume is unknown for a model trained before petromap recorded it; and, in a
 * notice, that it was trained on another volume than the one in use.
 */
import { formatShape } from '../format';

export interface TrainedOnRecord {
  volume: string;
  volumeId?: string;
  shape: readonly number[];
  spacingUm: readonly number[];
}

/** (z, y, x) µm → "2 µm" when the same on every axis, else "x × y × z µm" (the order the pages read sizes in) */
function voxelSize(s: readonly number[]): string {
  const r = (v: number) => +v.toPrecision(4);
  const [z, y, x] = s.map(r) as [number, number, number];
  return z === y && y === x ? `${x} µm` : `${x} × ${y} × ${z} µm`;
}

/** The sentence, and the mismatch with the volume in use (null when it is that volume or cannot be told). */
export function trainedOnText(on: TrainedOnRecord | null, current: { id: string | number; name: string } | null): { text: string; other: string | null } {
  if (!on) return { text: 'Trained before petromap recorded the volume.', other: null };
  const text = `Trained on ${on.volume} (${formatShape(on.shape)} voxels of ${voxelSize(on.spacingUm)}).`;
  const other = current && on.volumeId != null && on.volumeId !== String(current.id)
    ? `This model was trained on ${on.volume}, not on ${current.name}.`
    : null;
  return { text, other };
}

/** The sentence as a line of the page (`model-trained-on`), the mismatch below it as a notice (`model-other-volume`). */
export function TrainedOn({ on, current }: { on: TrainedOnRecord | null; current: { id: string | number; name: string } | null }) {
  const t = trainedOnText(on, current);
  return (
    <>
      <p className="muted small" data-testid="model-trained-on">{t.text}</p>
      {t.other && <div className="notice small" data-testid="model-other-volume">{t.other}</div>}
    </>
  );
}
