/**
 * The Correlate per-field picture shows a mosaic field that could not be placed (refine-fields'
 * `unplaced`): hatched and crossed, named in the summary as left out of training, said in its
 * tooltip and the legend; the placed fields keep their colours, outlines and arrows.
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

const cells = (html: string) => [...html.matchAll(/data-placed-by="([a-z]+)"/g)].map((m) => m[1]);

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
});
