'use client';
/**
 * Placing an interior scan without typing: the large scan's three views (click a voxel: the start
 * position moves there, with the crosshair), the Annotate step's scan proposals ("Use this
 * proposal" puts the start at the proposed box's centre), the position fields (still editable) and
 * the footprints of every placed (dashed) and registered (solid) interior outlined on the views;
 * the one being placed is drawn amber at the crosshair.
 */
import { useMemo, useState } from 'react';
import type { RouterOutputs } from '@/app/_components/api-types';
import { guessLevelShapes, sliceUrl } from '@/app/_components/viewer/volume-info';
import type { Vec3 } from '@/app/_components/viewer/slice-geometry';
import type { Affine3 } from '@/lib/upscale/interior-pose';
import { interiorCorners, startCorners } from './footprints';
import { MsSlicePanel, type Box3D } from './ms-slice-panel';

type State = RouterOutputs['multiscale']['state'];
export type Candidate = State['candidates'][number];

const v3 = (a: number[] | null | undefined): Vec3 | null => (a && a.length === 3 ? [a[0]!, a[1]!, a[2]!] : null);

/** Footprint boxes of the placed (dashed blue) and registered (green) interiors; `placing`: its start is drawn apart. */
export function interiorBoxes(s: State, lowUm: Vec3, placing?: string): Box3D[] {
  const out: Box3D[] = [];
  for (const it of s.interiors) {
    const shape = v3(it.dataset?.shape), hiUm = v3(it.dataset?.spacingUm);
    if (!shape || !hiUm) continue;
    const name = it.dataset?.name ?? it.datasetId;
    if (it.registration && !it.stale) out.push({ corners: interiorCorners(it.registration.hiToLow as Affine3, shape), color: '#4ade80', label: name, testId: 'ms-footprint' });
    else if (it.datasetId !== placing) out.push({ corners: startCorners(it.start.centre as Vec3, it.start.angleDeg, shape, hiUm, lowUm), color: '#93c5fd', dashed: true, label: `${name} (not registered)` });
  }
  return out;
}

/** Keyed by the candidate's id: a new scan to place starts from its own position. */
export interface PlacementProps {
  s: State;
  candidate: Candidate;
  /** the position it is placed at now, if it is */
  current: { centre: Vec3; angleDeg: number } | null;
  busy: boolean;
  onPlace: (centre: Vec3, angleDeg: number) => void;
}

export function Placement({ s, candidate, current, busy, onPlace }: PlacementProps) {
  const meta = s.scan!.meta as { shape: number[]; spacingUm: number[] };
  const shape = v3(meta.shape)!, lowUm = v3(meta.spacingUm)!;
  const levelShapes = useMemo(() => guessLevelShapes(shape, s.scan!.levels), [shape.join(), s.scan!.levels]); // eslint-disable-line react-hooks/exhaustive-deps
  const mid = shape.map((n) => Math.round((n - 1) / 2)) as Vec3;
  const [pos, setPos] = useState<{ c: Vec3; a: number }>({ c: current?.centre ?? mid, a: current?.angleDeg ?? 0 });
  const cursor = pos.c.map((v, a) => Math.max(0, Math.min(shape[a]! - 1, Math.round(v)))) as Vec3;
  const hiShape = v3(candidate.shape), hiUm = v3(candidate.spacingUm);
  const boxes = interiorBoxes(s, lowUm, candidate.id);
  if (hiShape && hiUm) boxes.push({ corners: startCorners(pos.c, pos.a, hiShape, hiUm, lowUm), color: '#fbbf24', dashed: true, label: 'start', testId: 'ms-preview-box' });
  for (const p of s.proposals?.list ?? []) {
    const b = p.box;
    boxes.push({ corners: [0, 1].flatMap((i) => [0, 1].flatMap((j) => [0, 1].map((k) => [b.start[0] - 0.5 + i * b.shape[0], b.start[1] - 0.5 + j * b.shape[1], b.start[2] - 0.5 + k * b.shape[2]] as Vec3))), color: 'rgba(255,255,255,0.55)', dashed: true, label: p.name });
  }
  const ratio = hiUm ? lowUm[2] / hiUm[2] : null;
  /** the registered interiors whose footprint overlaps a proposal's box (axis-aligned bounds) */
  const coveredBy = (b: { start: number[]; shape: number[] }) => {
    const names = s.interiors.filter((it) => it.registration && !it.stale && it.dataset?.shape).filter((it) => {
      const c = interiorCorners(it.registration!.hiToLow as Affine3, it.dataset!.shape as Vec3);
      return [0, 1, 2].every((a) => Math.max(...c.map((q) => q[a]!)) > b.start[a]! - 0.5 && Math.min(...c.map((q) => q[a]!)) < b.start[a]! + b.shape[a]! - 0.5);
    }).map((it) => it.dataset?.name ?? it.datasetId);
    return names.length ? `covered by ${names.join(', ')}` : null;
  };
  const field = (k: 0 | 1 | 2 | 3, label: string, id: string) => (
    <label>{label} <input type="number" step="any" value={k === 3 ? pos.a : pos.c[k]} data-testid={`ms-place-${id}`} aria-label={label}
      onChange={(e) => {
        const x = Number(e.target.value);
        if (k === 3) setPos({ ...pos, a: x });
        else { const c = [...pos.c] as Vec3; c[k] = x; setPos({ ...pos, c }); }
      }} /></label>
  );
  return (
    <div className="ms-place card" data-testid="ms-candidate">
      <h3>Place {candidate.name}</h3>
      <p className="info">
        {hiShape && hiUm ? `${hiShape.join(' × ')} voxels of ${hiUm[2]} µm` : ''}{ratio ? ` (1 : ${ratio.toFixed(2)} of the large scan's ${lowUm[2]} µm voxels)` : ''}.
        {' '}Click where it was taken on any of the three views, or use a scan proposal; the amber box shows where it would go (dashed white: the proposals, green: registered scans). Registration then searches ±12 voxels and ±12° around this start.
      </p>
      {ratio != null && ratio <= 1 && (
        <p className="warning" data-testid="ms-not-finer">
          Its voxels ({hiUm![2]} µm) are not smaller than the large scan&apos;s ({lowUm[2]} µm): an interior scan must have the higher resolution. Check the voxel size stored in the file.
        </p>
      )}
      {s.proposals && s.proposals.list.length > 0 && (
        <ul className="fractions" data-testid="ms-proposals">
          {s.proposals.list.map((p) => (
            <li key={p.code}>
              <strong>{p.name}</strong> <span className="num">{(100 * p.purity).toFixed(0)} % pure, centre voxel ({p.centre.map((v) => v.toFixed(1)).join(', ')})</span>{' '}
              <button type="button" data-testid={`ms-use-proposal-${p.code}`} onClick={() => setPos({ c: p.centre as Vec3, a: pos.a })}>Use this proposal</button>{' '}
              <span className="info" data-testid={`ms-proposal-cover-${p.code}`}>{coveredBy(p.box) ?? 'no registered interior scan here yet'}</span>
            </li>
          ))}
          {!s.proposals.current && <li className="info">These proposals were made on an earlier map or on the strokes; they still name places in this scan.</li>}
        </ul>
      )}
      {!s.proposals && <p className="info" data-testid="ms-no-proposals">No scan proposals yet (Annotate step, “Propose”): click on the views instead.</p>}
      <div className="ortho" style={{ display: 'grid', gridTemplateColumns: 'repeat(3, minmax(0, 1fr))', gap: 6 }}>
        {(['z', 'y', 'x'] as const).map((axis) => (
          <MsSlicePanel key={axis} axis={axis} shape={shape} spacing={lowUm} levelShapes={levelShapes} cursor={cursor} testId="ms-place-view"
            onCursor={(c) => setPos((prev) => ({ ...prev, c: c.map((v, a) => (v === Math.round(prev.c[a]!) ? prev.c[a]! : v)) as Vec3 }))}
            greyUrl={(a, index, level) => sliceUrl(s.scan!.id, { axis: a, index, level, channel: 0, format: 'png' })} boxes={boxes} height={220} />
        ))}
      </div>
      <div className="controls">
        <span className="info">start, voxels of the large scan:</span>{field(0, 'z', 'z')}{field(1, 'y', 'y')}{field(2, 'x', 'x')}{field(3, 'turn (°)', 'a')}
        <button type="button" className="primary" data-testid="ms-place" disabled={busy} onClick={() => onPlace(pos.c, pos.a)}>{current ? 'Move here' : 'Place here'}</button>
      </div>
    </div>
  );
}
