/**
 * The Correlate per-field picture shows a mosaic field that could not be placed (refine-fields'
 * `unplaced`): hatched and crossed, named in the summary as left out of training, said in its
 * tooltip and the legend; the placed fields keep their colours, outlines and arrows. A field whose
 * own match stayed within its noise and was taken shrunk (refine-fields' `belowNoise`) is drawn
 * dotted, not like a field moved by its own match, and the tooltip, summary and legend say so.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { FieldsPicture, type Field } from '@/app/projects/[projectId]/correlate/_components/fields-map';

/** a 3 x 3 mosaic of 100 px fields: B2 moved by its own match, C1 from its neighbours, D-less names */
function mosaic(unplaced: string[]): Field[] {
  const out: Field[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const name = `${'ABC'[r]}${c + 1}`;
      const moved = name === 'B2' || name === 'C1';
      out.push({
        name, u0: c * 100, v0: r * 100, width: 100, height: 100, overlap: 1, moved,
        shiftPx: moved ? [2, -1] : [0, 0], placedBy: name === 'C1' ? 'neighbours' : moved ? 'measured' : 'global',
        ...(unplaced.includes(name) ? { unplaced: true } : {}),
      } as Field);
    }
  }
  return out;
}

const cells = (html: string) => [...html.matchAll(/data-placed-by="([a-z-]+)"/g)].map((m) => m[1]);
const text = (html: string) => html.replace(/<[^>]+>/g, '').replace(/&#x27;|&apos;/g, "'").replace(/\s+/g, ' ');

describe('per-field picture', () => {
  it('draws an unplaced field hatched and crossed, and says its labels are left out of training', () => {
    const html = renderToStaticMarkup(createElement(FieldsPicture, { fields: mosaic(['A3', 'C3']), w: 300, h: 300 }));
    expect(cells(html)).toEqual(['global', 'global', 'unplaced', 'global', 'measured', 'global', 'neighbours', 'global', 'unplaced']);
    expect(html.match(/data-testid="field-cross"/g)).toHaveLength(2);
    expect(html).toContain('url(#fld-unplaced)');
    expect(html).toMatch(/<strong>2 not placed<\/strong> \(A3, C3\): their labels are left out of training/);
    expect(html).toMatch(/A3: not placed \(nothing to match, and its neighbours could not place it\): its labels are left out of training/);
    expect(html).toMatch(/Fields that moved: 2 of 9, 1 of them from their neighbours \(dashed\)/);
    expect(html).toMatch(/hatched and crossed in red: not placed/);
  });

  it('a mosaic with every field placed shows no cross and no unplaced line', () => {
    const html = renderToStaticMarkup(createElement(FieldsPicture, { fields: mosaic([]), w: 300, h: 300 }));
    expect(html).not.toContain('field-cross');
    expect(html).not.toContain('not placed');
    expect(html.match(/data-testid="field-arrow"/g)).toHaveLength(2);
  });

  it('draws a field placed by a match within its noise dotted, unlike one moved by its own match, and says so', () => {
    const fields = mosaic([]).map((f) => (f.name === 'A2' ? { ...f, shiftPx: [0.5, 0.25], moved: true, placedBy: 'measured', belowNoise: true } as Field : f));
    const html = renderToStaticMarkup(createElement(FieldsPicture, { fields, w: 300, h: 300 }));
    expect(cells(html)).toEqual(['global', 'within-noise', 'global', 'global', 'measured', 'global', 'neighbours', 'global', 'global']);
    // the outlines: B2 solid, C1 dashed, A2 dotted; each of the three with its arrow in the same dashes
    const cell = (name: string) => new RegExp(`<g[^>]*data-testid="field-cell"[^>]*>(?:(?!</g>).)*?${name}(?:(?!</g>).)*</g>`, 's').exec(html)![0];
    const dashes = (g: string) => [...g.matchAll(/<(rect|line)[^>]*?(?:stroke-dasharray="([^"]+)")?[^>]*?>/g)].map((m) => `${m[1]}:${/stroke-dasharray="([^"]+)"/.exec(m[0])?.[1] ?? 'solid'}`);
    expect(dashes(cell('A2'))).toEqual(['rect:1 2', 'line:1 2']);
    expect(dashes(cell('B2'))).toEqual(['rect:solid', 'line:solid']);
    expect(dashes(cell('C1'))).toEqual(['rect:3 2', 'line:3 2']);
    expect(html.match(/data-testid="field-within-noise"/g)).toHaveLength(1);
    expect(html.match(/data-testid="field-arrow"/g)).toHaveLength(3);
    const t = text(html);
    expect(t).toMatch(/A2: shift 0\.50, 0\.25 px \(its own match, within its noise: taken shrunk towards the global transform\)/);
    expect(t).toMatch(/B2: shift 2\.00, -1\.00 px · 100 % on the volume/);
    expect(t).toMatch(/Fields that moved: 3 of 9, 1 of them from their neighbours \(dashed\), 1 by a match within its noise, taken shrunk \(dotted\) \(arrows exaggerated\)/);
    expect(t).toMatch(/Outlined with an arrow: moved by its own match; dotted: its own match, within its noise \(on a map with stitching errors\): taken shrunk towards the global transform; dashed: took its neighbours' shift/);
    expect(t).toMatch(/no outline: kept on the global transform \(no distinct match, a shift under 0\.2 px, or one within its noise on a map without stitching errors\)\./);
  });

  it('a mosaic with no field within its noise names no dotted outline', () => {
    const t = text(renderToStaticMarkup(createElement(FieldsPicture, { fields: mosaic([]), w: 300, h: 300 })));
    expect(t).not.toContain('dotted');
    expect(t).toMatch(/Outlined with an arrow: moved by its own match; dashed: took/);
  });
});
