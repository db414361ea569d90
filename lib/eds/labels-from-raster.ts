/**
 * EDS map pixels to mineral labels: a colour map through its legend, a label (id) image, grey
 * coding; and the grey image of a map (for registration). Pure functions, no I/O
 * (lib/eds/import-node.ts reads the files; see its comment for the unclassified rules).
 */
import { invalidInput } from '../errors';
import { clip, rgbToHex, type ParsedLegend } from './legend';
import type { ColourRaster, Raster, ScalarRaster } from './raster';

/** Distinct wrong colours / values tracked for the message (a noisy map must not grow the table without bound). */
const MAX_TRACKED = 1000;

/** Largest channel difference (0-255) at which a colour not in the legend is called near a legend colour. */
const NEAR_LEVELS = 12;

/**
 * How many pixels of the colours not in the legend lie within NEAR_LEVELS of a legend colour (what
 * JPEG or smoothing leaves of a phase map), with the largest such colour as an example.
 */
function nearLegendColours(list: [number, { count: number }][], legend: ParsedLegend): { pixels: number; example: string } {
  const named = legend.phases.map((p) => ({ name: p.name, c: p.color as readonly number[] }));
  let pixels = 0;
  let example = '';
  for (const [k, b] of list) {
    const c = [(k >> 16) & 255, (k >> 8) & 255, k & 255];
    let best: { name: string; c: readonly number[] } | undefined;
    let bestD = Infinity;
    for (const p of named) {
      const d = Math.max(Math.abs(p.c[0]! - c[0]!), Math.abs(p.c[1]! - c[1]!), Math.abs(p.c[2]! - c[2]!));
      if (d < bestD) (bestD = d), (best = p);
    }
    if (!best || bestD > NEAR_LEVELS) continue;
    pixels += b.count;
    example ||= `${rgbToHex(c)} is ${bestD} level${bestD > 1 ? 's' : ''} from ${clip(best.name.trim(), 30)} ${rgbToHex(best.c)}`;
  }
  return { pixels, example };
}

/**
 * A map colour a few levels from a legend colour that no pixel of the map has is most likely a typo
 * in the legend (Quartz 235 for 236): said as such, in a sentence ending with a space, or ''.
 */
function legendTypo(list: [number, { count: number }][], legend: ParsedLegend, labels: Uint16Array): string {
  const used = new Set<number>();
  for (let i = 0; i < labels.length; i++) used.add(labels[i]!);
  for (const [k] of list) {
    const c = [(k >> 16) & 255, (k >> 8) & 255, k & 255];
    for (const p of legend.phases) {
      const d = Math.max(...p.color.map((v, j) => Math.abs(v - c[j]!)));
      if (d <= NEAR_LEVELS && !used.has(p.id)) {
        return `${rgbToHex(c)} is ${d} level${d > 1 ? 's' : ''} from ${clip(p.name.trim(), 30)} ${rgbToHex(p.color)} in the legend, a colour no pixel of the map has: is that legend row mistyped? `;
      }
    }
  }
  return '';
}

/** Colour map → labels (see the file comment for the unclassified rules). */
export function coloursToLabels(r: ColourRaster, legend: ParsedLegend, mapName: string): Uint16Array {
  const key = (a: number, b: number, c: number) => (a << 16) | (b << 8) | c;
  const lut = new Map<number, number>();
  for (const p of legend.phases) lut.set(key(...p.color), p.id);
  for (const u of legend.unclassified) if (u.color) lut.set(key(...u.color), 0);
  if (!lut.has(0)) lut.set(0, 0); // black is unclassified unless the legend says otherwise
  const n = r.width * r.height;
  const labels = new Uint16Array(n);
  const bad = new Map<number, { count: number; first: number }>();
  const d = r.rgba;
  let lastKey = -1, lastId = 0, untracked = 0;
  for (let i = 0; i < n; i++) {
    if (d[i * 4 + 3] === 0) continue;
    const k = key(d[i * 4], d[i * 4 + 1], d[i * 4 + 2]);
    if (k === lastKey) {
      labels[i] = lastId;
      continue;
    }
    const id = lut.get(k);
    if (id === undefined) {
      const b = bad.get(k);
      if (b) b.count++;
      else if (bad.size < MAX_TRACKED) bad.set(k, { count: 1, first: i });
      else untracked++;
      lastKey = -1;
      continue;
    }
    labels[i] = id;
    lastKey = k;
    lastId = id;
  }
  if (bad.size) {
    const list = [...bad.entries()].sort((a, b) => b[1].count - a[1].count);
    const total = list.reduce((s, [, b]) => s + b.count, 0) + untracked;
    const SHOW = 3;
    const listed = list.slice(0, SHOW).map(([k, b]) => {
      const hex = rgbToHex([(k >> 16) & 255, (k >> 8) & 255, k & 255]);
      return `${hex} (${b.count} px, first at column ${b.first % r.width}, row ${Math.floor(b.first / r.width)})`;
    });
    const more = list.length - SHOW;
    const count = `${list.length}${untracked ? '+' : ''} colour${list.length > 1 ? 's' : ''}`;
    const near = nearLegendColours(list, legend);
    const pct = ((100 * total) / n).toFixed(2);
    const details = { details: { colours: list.map(([k, b]) => ({ color: rgbToHex([(k >> 16) & 255, (k >> 8) & 255, k & 255]), pixels: b.count })) } };
    if (near.pixels >= 0.5 * total && list.length > 1) {
      throw invalidInput(
        `EDS map ${clip(mapName, 40)}: its colours are no longer exact. ${count} are not in the legend ${clip(legend.source, 40)} (${total} px, ${pct} %), ` +
          `${near.pixels} px of them within ${NEAR_LEVELS} levels of a legend colour (${near.example}), as JPEG compression or smoothing leaves them. ` +
          "petromap does not give a pixel a near colour's mineral: export the map again as PNG or TIFF, without anti-aliasing.",
        details,
      );
    }
    throw invalidInput(
      `EDS map ${clip(mapName, 60)}: ${count} in the map ${list.length > 1 ? 'are' : 'is'} not in the legend ${clip(legend.source, 60)} (${total} pixels, ${pct} %): ` +
        `${listed.join(', ')}${more > 0 || untracked ? `, and ${untracked ? 'more than ' : ''}${Math.max(more, 0)} more` : ''}. ` +
        legendTypo(list.slice(0, SHOW), legend, labels) +
        `Add them to the legend (as a mineral, or named "Unclassified")${legendRowHint(list[0]![0], legend)}, or re-export the map without anti-aliasing or lossy compression.`,
      details,
    );
  }
  return labels;
}

/**
 * A greyscale 8-bit image with a legend of grey colours and no ids is a colour map saved as grey
 * (its grey levels are the legend colours), not a label image.
 */
export function greyCodedLegend(r: ScalarRaster, legend: ParsedLegend): boolean {
  return !legend.explicitIds && r.integer && r.bitsPerSample <= 8 && [...legend.phases, ...legend.unclassified].every((p) => !p.color || (p.color[0] === p.color[1] && p.color[1] === p.color[2]));
}

export function greyToColour(r: ScalarRaster): ColourRaster {
  const n = r.width * r.height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) rgba.fill(r.data[i], i * 4, i * 4 + 3), (rgba[i * 4 + 3] = 255);
  return { kind: 'colour', width: r.width, height: r.height, rgba, resolutionUm: r.resolutionUm };
}

/** Label image → labels: values must be legend ids (0 and unclassified-named ids become 0). */
export function idsToLabels(r: ScalarRaster, legend: ParsedLegend, mapName: string): Uint16Array {
  if (!r.integer) {
    throw invalidInput(`EDS map ${mapName} holds floating-point values; a label image must hold whole-number phase ids (8, 16 or 32-bit integers).`);
  }
  if (!legend.explicitIds) {
    throw invalidInput(`EDS map ${mapName} is a single-channel label image, so its legend ${legend.source} must give each mineral's pixel value: use code,name (e.g. "1,Quartz") or id,name,r,g,b (e.g. "1,Quartz,236,220,180").`);
  }
  const valid = new Map<number, number>();
  for (const p of legend.phases) valid.set(p.id, p.id);
  for (const u of legend.unclassified) if (u.id !== undefined) valid.set(u.id, 0);
  valid.set(0, 0);
  const n = r.width * r.height;
  const labels = new Uint16Array(n);
  const bad = new Map<number, { count: number; first: number }>();
  let untracked = 0;
  for (let i = 0; i < n; i++) {
    const v = r.data[i];
    const id = valid.get(v);
    if (id === undefined) {
      const b = bad.get(v);
      if (b) b.count++;
      else if (bad.size < MAX_TRACKED) bad.set(v, { count: 1, first: i });
      else untracked++;
      continue;
    }
    labels[i] = id;
  }
  if (bad.size) {
    const list = [...bad.entries()].sort((a, b) => a[0] - b[0]);
    const listed = list.slice(0, 5).map(([v, b]) => `${v} (${b.count} px, first at column ${b.first % r.width}, row ${Math.floor(b.first / r.width)})`);
    throw invalidInput(
      `EDS map ${clip(mapName, 60)}: pixel values ${listed.join(', ')}${list.length > 5 || untracked ? ` and ${untracked ? 'more than ' : ''}${list.length - 5} more` : ''} are not phase ids in the legend ${clip(legend.source, 60)}. ` +
        'Add them to the legend (id,name,r,g,b), or name them "Unclassified".',
      { details: { values: list.map(([v, b]) => ({ value: v, pixels: b.count })) } },
    );
  }
  return labels;
}

/** A greyscale companion image as Float32 (colour images: luminance). */
export function rasterToGrey(r: Raster): Float32Array {
  const n = r.width * r.height;
  const out = new Float32Array(n);
  if (r.kind === 'scalar') {
    for (let i = 0; i < n; i++) out[i] = r.data[i];
  } else {
    const d = r.rgba;
    for (let i = 0; i < n; i++) out[i] = 0.299 * d[i * 4] + 0.587 * d[i * 4 + 1] + 0.114 * d[i * 4 + 2];
  }
  return out;
}


/**
 * The legend row a missing colour needs, in the legend's own colour notation: a legend written as
 * name,r,g,b (as most exporters write it) gets "<mineral>,255,204,0" rather than only the hex the
 * message names the colour by (N5: a mineralogist had to turn #ffcc00 into 255,204,0 by hand).
 */
function legendRowHint(key: number, legend: ParsedLegend): string {
  const rgb = [(key >> 16) & 255, (key >> 8) & 255, key & 255];
  const hex = rgbToHex(rgb);
  const name = legend.explicitIds ? '<id>,<mineral>' : '<mineral>';
  return legend.coloursGiven ? `, e.g. a row ${name},${rgb.join(',')} (or ${name},${hex}) for ${hex}` : '';
}
