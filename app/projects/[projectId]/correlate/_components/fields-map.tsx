/**
 * The per-field picture of a stitched mosaic on the Correlate page (issue 19): the fields coloured
 * by their shift, with arrows (exaggerated) for the moved ones, solid for a field placed by its own
 * match, dotted for one whose own match stayed within its noise and was taken shrunk towards the
 * global transform (refine-fields.ts placeBelowNoise), dashed for one that took its neighbours'
 * shift; a field that could not be placed at all
 * (nothing to match on a map with stitching errors) is hatched and crossed: its labels are left out
 * of training. With the summary line above and the legend below. d3 scales in useMemo, React renders the SVG.
 */
import { interpolateYlOrRd, max, scaleLinear, scaleSequential } from 'd3';
import { useMemo } from 'react';
import type { RouterOutputs } from '@/app/_components/api-types';

type Reg = NonNullable<RouterOutputs['correlate']['state']['registration']>;
export type Field = NonNullable<Reg['fields']>[number];

/** Where a field's shift comes from, in words (the field's tooltip). */
export function fieldSource(f: Field): string {
  if (f.unplaced) return ': not placed (nothing to match, and its neighbours could not place it): its labels are left out of training';
  if (f.placedBy === 'neighbours') return ' (from its neighbours: its own content could not place it, and neighbouring fields moved alike)';
  if (f.belowNoise) return ' (its own match, within its noise: taken shrunk towards the global transform)';
  return f.moved ? '' : ' (kept on the global transform)';
}

const placedBy = (f: Field) => (f.unplaced ? 'unplaced' : f.belowNoise ? 'within-noise' : (f.placedBy ?? (f.moved ? 'measured' : 'global')));
/** the outline's and arrow's dashes: dashed from the neighbours, dotted within its noise, solid by its own match */
const dashOf = (f: Field) => (f.placedBy === 'neighbours' ? '3 2' : f.belowNoise ? '1 2' : undefined);

function FieldsMap({ fields, w, h }: { fields: Field[]; w: number; h: number }) {
  const W = 260, H = Math.max(60, Math.round((W * h) / w));
  const { color, gain, top, cell } = useMemo(() => {
    const top = Math.max(1, max(fields.filter((f) => !f.unplaced), (f) => Math.hypot(f.shiftPx[0], f.shiftPx[1])) ?? 1);
    const cell = Math.min(...fields.map((f) => Math.min(f.width * (W / w), f.height * (H / h))));
    return { color: scaleSequential(interpolateYlOrRd).domain([0, top]), gain: scaleLinear().domain([0, top]).range([0, cell * 0.45]), top, cell };
  }, [fields, w, h, H]);
  const sx = W / w, sy = H / h;
  // field names where they fit (a TIMA mosaic of hundreds of fields stays a picture)
  const named = fields.length <= 64 && cell >= 24;
  return (
    <svg width={W} height={H + 22} data-testid="fields-map" role="img" aria-label="per-field corrections">
      <defs>
        <marker id="fld-arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#222" />
        </marker>
        <pattern id="fld-unplaced" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="6" height="6" fill="#eee" />
          <line x1="0" y1="0" x2="0" y2="6" stroke="#999" strokeWidth="2" />
        </pattern>
      </defs>
      {fields.map((f, i) => {
        const len = Math.hypot(f.shiftPx[0], f.shiftPx[1]);
        const x0 = f.u0 * sx, y0 = f.v0 * sy, fw = f.width * sx, fh = f.height * sy;
        const cx = x0 + fw / 2, cy = y0 + fh / 2, k = len > 0 ? gain(len) / len : 0;
        const title = <title>{`${f.name ?? `field ${i + 1}`}${f.unplaced ? '' : `: shift ${f.shiftPx[0].toFixed(2)}, ${f.shiftPx[1].toFixed(2)} px`}${fieldSource(f)} · ${(f.overlap * 100).toFixed(0)} % on the volume`}</title>;
        if (f.unplaced) {
          const m = Math.min(fw, fh) * 0.2;
          return (
            <g key={i} data-testid="field-cell" data-moved="0" data-placed-by="unplaced">
              <rect x={x0} y={y0} width={fw} height={fh} fill="url(#fld-unplaced)" stroke="#b00" strokeWidth={1.5}>{title}</rect>
              <path d={`M ${x0 + m} ${y0 + m} L ${x0 + fw - m} ${y0 + fh - m} M ${x0 + fw - m} ${y0 + m} L ${x0 + m} ${y0 + fh - m}`} stroke="#b00" strokeWidth={1.5} pointerEvents="none" data-testid="field-cross" />
              {named && f.name && <text x={x0 + 3} y={y0 + 11} fontSize={9} fill="#555" pointerEvents="none">{f.name}</text>}
            </g>
          );
        }
        const dash = dashOf(f);
        return (
          <g key={i} data-testid="field-cell" data-moved={f.moved ? '1' : '0'} data-placed-by={placedBy(f)}>
            <rect x={x0} y={y0} width={fw} height={fh} fill={f.overlap > 0 ? color(len) : '#ddd'}
              stroke={f.moved ? '#222' : '#fff'} strokeWidth={f.moved ? 1.5 : 0.5} strokeDasharray={dash} data-testid={f.belowNoise ? 'field-within-noise' : undefined}>
              {title}
            </rect>
            {f.moved && <line x1={cx} y1={cy} x2={cx + f.shiftPx[0] * k} y2={cy + f.shiftPx[1] * k} stroke="#222" strokeWidth={1.5} strokeDasharray={dash} markerEnd="url(#fld-arrow)" data-testid="field-arrow" />}
            {named && f.name && <text x={x0 + 3} y={y0 + 11} fontSize={9} fill="#555" pointerEvents="none">{f.name}</text>}
          </g>
        );
      })}
      {[0, 0.5, 1].map((t) => (
        <g key={t} transform={`translate(${t * (W - 52)},${H + 4})`}>
          <rect width={12} height={10} fill={color(t * top)} />
          <text x={15} y={9} fontSize={10}>{(t * top).toFixed(1)} px</text>
        </g>
      ))}
    </svg>
  );
}

/** The summary line, the picture and its legend (the fields candidate of the model panel). */
export function FieldsPicture({ fields, w, h }: { fields: Field[]; w: number; h: number }) {
  const moved = fields.filter((f) => f.moved && !f.unplaced).length;
  const neighbours = fields.filter((f) => f.placedBy === 'neighbours' && !f.unplaced).length;
  const withinNoise = fields.filter((f) => f.moved && f.belowNoise && !f.unplaced).length;
  const unplaced = fields.filter((f) => f.unplaced);
  return (
    <>
      <div className="small muted" data-testid="fields-summary">
        Fields that moved: {moved} of {fields.length}
        {neighbours > 0 && <>, {neighbours} of them from their neighbours (dashed)</>}
        {withinNoise > 0 && <span data-testid="fields-within-noise">, {withinNoise} by a match within {withinNoise > 1 ? 'their' : 'its'} noise, taken shrunk (dotted)</span>} (arrows exaggerated)
        {unplaced.length > 0 && (
          <span data-testid="fields-unplaced">
            {' '}· <strong>{unplaced.length} not placed</strong> ({unplaced.slice(0, 6).map((f, i) => f.name ?? `field ${fields.indexOf(f) + 1 || i + 1}`).join(', ')}{unplaced.length > 6 ? ', …' : ''}): their labels are left out of training
          </span>
        )}
      </div>
      <FieldsMap fields={fields} w={w} h={h} />
      <div className="small muted" style={{ maxWidth: 260 }} data-testid="fields-legend">
        Colour: the field&apos;s shift (EDS px). Outlined with an arrow: moved by its own match;
        {withinNoise > 0 && ' dotted: its own match, within its noise (on a map with stitching errors): taken shrunk towards the global transform;'}
        {' '}dashed: took its neighbours&apos; shift (stage drift);
        no outline: kept on the global transform (no distinct match, a shift under 0.2 px, or one within its noise on a map without stitching errors)
        {unplaced.length > 0 ? '; hatched and crossed in red: not placed (nothing to match on a map with stitching errors), its labels are not used.' : '.'}
      </div>
    </>
  );
}
