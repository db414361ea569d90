/**
 * `import-eds --preview`: the coloured mosaic with its legend in one PNG, for a look at an import
 * without the web app. Framework-free (pixels in, PNG bytes out; text from a small bitmap font).
 *
 * Layout: the map on the left (nearest-neighbour, enlarged for small maps, reduced for maps above
 * `maxSidePx`), on white; not-measured pixels hatched in two light greys, unclassified black. On the
 * right: title (sample, size, pixel size), then one row per phase (swatch, name, % of the map) by
 * area, one "minor phases" row for phases under the threshold, "unclassified" and "not measured".
 */
import { encode } from 'fast-png';
import { groupMinorPhases, MINOR_PHASE_PX, phaseAreas } from './minor-phases';
import { GLYPH_H, GLYPH_W, GLYPHS } from './preview-font';
import { notMeasuredFraction, unclassifiedFraction, type MineralMap } from './types';

export interface PreviewOptions {
  /** phases with fewer pixels are grouped as "minor phases" (default 10) */
  minorThresholdPx?: number;
  /** the map is reduced to at most this many pixels on its longer side (default 4000) */
  maxSidePx?: number;
}

/** The two greys of the not-measured hatch (stripes 4 px wide, at 45°). */
export const NOT_MEASURED_HATCH: [[number, number, number], [number, number, number]] = [[236, 236, 236], [205, 205, 205]];
const hatch = (x: number, y: number) => NOT_MEASURED_HATCH[((x + y) >> 2) & 1];

interface Canvas {
  w: number;
  h: number;
  rgb: Uint8Array;
}

function fill(c: Canvas, x0: number, y0: number, w: number, h: number, col: readonly number[] | ((x: number, y: number) => readonly number[])) {
  for (let y = Math.max(0, y0); y < Math.min(c.h, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(c.w, x0 + w); x++) {
      const v = typeof col === 'function' ? col(x, y) : col;
      c.rgb.set(v.slice(0, 3), (y * c.w + x) * 3);
    }
  }
}

/** Text in the bitmap font; accents are dropped (é → e), characters it lacks become '?'. */
export function previewText(s: string): string {
  return [...s.normalize('NFD').replace(/[\u0300-\u036f]/g, '')].map((ch) => (GLYPHS[ch] ? ch : '?')).join('');
}

function text(c: Canvas, x0: number, y0: number, s: string, maxChars: number, col: readonly number[] = [0, 0, 0]) {
  let t = previewText(s);
  if (t.length > maxChars) t = t.slice(0, maxChars - 1) + '?';
  [...t].forEach((ch, k) => {
    const g = GLYPHS[ch];
    for (let r = 0; r < GLYPH_H; r++) {
      const bits = parseInt(g.slice(2 * r, 2 * r + 2), 16);
      for (let b = 0; b < GLYPH_W; b++) if (bits & (1 << (GLYPH_W - 1 - b))) fill(c, x0 + k * GLYPH_W + b, y0 + r, 1, 1, col);
    }
  });
}

const pct = (f: number) => (f > 0 && f < 0.0001 ? '<0.01 %' : `${(100 * f).toFixed(2)} %`);

/** Rows of the preview legend: [swatch, name, share of the map]. Exported for tests. */
export function previewLegendRows(map: MineralMap, thresholdPx = MINOR_PHASE_PX): { swatch: [number, number, number] | 'hatch' | [number, number, number][]; name: string; value: string }[] {
  const g = groupMinorPhases(phaseAreas(map).filter((p) => p.pixels > 0), thresholdPx);
  const rows: ReturnType<typeof previewLegendRows> = g.major.map((p) => ({ swatch: p.color, name: p.name, value: pct(p.areaFraction) }));
  // the minor phases' swatch: stripes of their own colours
  if (g.minor) rows.push({ swatch: g.minor.phases.slice(0, 7).map((p) => p.color), name: `${g.minor.phases.length} minor phases (< ${thresholdPx} px each)`, value: pct(g.minor.areaFraction) });
  rows.push({ swatch: [0, 0, 0], name: 'unclassified', value: pct(unclassifiedFraction(map)) });
  if (map.measured) rows.push({ swatch: 'hatch', name: 'not measured', value: pct(notMeasuredFraction(map)) });
  return rows;
}

/** RGB PNG: the mosaic and its legend. */
export function renderMineralMapPreview(map: MineralMap, opts: PreviewOptions = {}): Uint8Array {
  const maxSide = opts.maxSidePx ?? 4000;
  const long = Math.max(map.width, map.height);
  // enlarge small maps to about 400 px, reduce large ones by a whole step
  const up = long < 400 ? Math.max(1, Math.floor(400 / long)) : 1;
  const step = long > maxSide ? Math.ceil(long / maxSide) : 1;
  const mw = Math.ceil(map.width / step) * up, mh = Math.ceil(map.height / step) * up;
  const rows = previewLegendRows(map, opts.minorThresholdPx);
  const title = [map.sampleName ?? map.source ?? 'mineral map', `${map.width} x ${map.height} px, ${+map.pixelSizeUm.toPrecision(4)} µm/px`];
  const nameChars = Math.min(48, Math.max(16, ...rows.map((r) => r.name.length), ...title.map((t) => t.length - 10)));
  const pad = 16, rowH = GLYPH_H + 6, sw = 16;
  const legendW = pad + sw + 8 + nameChars * GLYPH_W + 10 + 9 * GLYPH_W + pad;
  const legendH = pad + title.length * rowH + 8 + rows.length * rowH + pad;
  const c: Canvas = { w: pad + mw + legendW, h: Math.max(mh + 2 * pad, legendH), rgb: new Uint8Array(0) };
  c.rgb = new Uint8Array(c.w * c.h * 3).fill(255);
  const lut = new Uint8Array(65536 * 3);
  for (const p of map.legend) lut.set(p.color, p.id * 3);
  for (let y = 0; y < mh; y++) {
    const v = Math.floor(y / up) * step;
    for (let x = 0; x < mw; x++) {
      const i = v * map.width + Math.floor(x / up) * step;
      const o = ((pad + y) * c.w + pad + x) * 3;
      const col = map.measured && !map.measured[i] ? hatch(x, y) : null;
      const k = map.labels[i] * 3;
      c.rgb[o] = col ? col[0] : lut[k];
      c.rgb[o + 1] = col ? col[1] : lut[k + 1];
      c.rgb[o + 2] = col ? col[2] : lut[k + 2];
    }
  }
  const x0 = pad + mw + pad;
  let y = pad;
  for (const t of title) (text(c, x0, y, t, nameChars + 10), (y += rowH));
  y += 8;
  for (const r of rows) {
    fill(c, x0, y + 1, sw, GLYPH_H - 2, [90, 90, 90]);
    const sws = r.swatch;
    fill(c, x0 + 1, y + 2, sw - 2, GLYPH_H - 4, sws === 'hatch' ? hatch : typeof sws[0] === 'number' ? (sws as number[]) : (x) => (sws as number[][])[(x - x0 - 1) >> 1] ?? [255, 255, 255]);
    text(c, x0 + sw + 8, y, r.name, nameChars);
    const vx = x0 + sw + 8 + nameChars * GLYPH_W + 10 + (9 - r.value.length) * GLYPH_W;
    text(c, vx, y, r.value, 9);
    y += rowH;
  }
  return encode({ width: c.w, height: c.h, data: c.rgb, channels: 3, depth: 8 });
}
