/**
 * A mineralogist's own EDS export on the Data step (N5): many EDS programs export the resin-filled
 * pores as "Background", which imports as unclassified — the pores never train and Auto-register
 * loses its strongest contrast (N5's map, 19 % "Background": registered 130° off and doubtful; the
 * same map with that colour named "Resin": confirmed at 0.35 voxel). The row now says so and how to
 * name it; a failed upload no longer names its file twice; the Train page names a class with no or
 * fewer than 50 labelled voxels, as train and run print it.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { DatasetTable } from '@/app/_components/datasets/dataset-table';
import type { DatasetRow } from '@/app/_components/datasets/dataset-row';
import { withoutFileName } from '@/app/_components/upload/upload-zone';
import { ThinClassesWarning } from '@/app/_components/train/thin-classes-warning';

function edsRow(unclassifiedFraction: number): DatasetRow {
  return {
    id: 'd1', name: 'eds_main.zip', kind: 'eds', face: 'top', createdAt: null,
    eds: {
      datasetId: 'd1', width: 150, height: 110, pixelSizeUm: 1.7, companions: [], unclassifiedFraction,
      legend: [{ id: 1, name: 'Quartz', color: [255, 255, 153], areaFraction: 0.333, pixels: 5490 }],
    },
  } as DatasetRow;
}

const render = (rows: DatasetRow[]) => renderToStaticMarkup(createElement(DatasetTable, { projectId: 'p1', rows }));

describe('an EDS map with a large unclassified share', () => {
  it('the Data step says what unclassified pixels do not do, and how to make pores train', () => {
    const html = render([edsRow(0.22)]);
    expect(html).toContain('data-testid="unclassified-note"');
    expect(html).toMatch(/22\.0 % of the map is unclassified/);
    expect(html).toMatch(/no training labels/);
    expect(html).toMatch(/Auto-register does not match them/);
    expect(html).toMatch(/Pores,0,0,0/);
  });
  it('a map with a few unclassified pixels (EDS defects) gets no note', () => {
    const html = render([edsRow(0.027)]);
    expect(html).not.toContain('unclassified-note');
    expect(html).toMatch(/unclassified 2\.7 %/);
  });
});

describe('a refused upload', () => {
  it('names its file once', () => {
    expect(withoutFileName('eds_nolegend.zip: EDS map phase_map.png: 1 colour in the map is not in the legend', 'eds_nolegend.zip'))
      .toBe('EDS map phase_map.png: 1 colour in the map is not in the legend');
    expect(withoutFileName('the import failed.', 'x.zip')).toBe('the import failed.');
    expect(withoutFileName('x.zip: ', 'x.zip')).toBe('x.zip: ');
  });
});

describe('Train: classes the labels can hardly teach (the CLI said so, the page did not)', () => {
  const classes = [{ code: 1, name: 'pore' }, { code: 2, name: 'quartz' }, { code: 3, name: 'feldspar' }, { code: 5, name: 'pyrite' }];
  it('names a class with no labelled voxel (never predicted) and one with fewer than 50', () => {
    const html = renderToStaticMarkup(createElement(ThinClassesWarning, { classes, counts: [{ code: 2, voxels: 1445 }, { code: 3, voxels: 921 }, { code: 5, voxels: 21 }] }));
    expect(html).toContain('data-testid="thin-classes"');
    expect(html).toMatch(/pore: no labelled voxel, so the model will not predict it anywhere/);
    expect(html).toMatch(/name that colour e\.g\. “Pores”/);
    expect(html).toMatch(/pyrite \(21 labelled voxels\): fewer\s+than 50/);
    expect(html).not.toMatch(/quartz|feldspar/);
  });
  it('says nothing when every class has 50 or more, or when fewer than two classes are labelled (the one-class warning speaks)', () => {
    expect(renderToStaticMarkup(createElement(ThinClassesWarning, { classes: classes.slice(1, 3), counts: [{ code: 2, voxels: 50 }, { code: 3, voxels: 921 }] }))).toBe('');
    expect(renderToStaticMarkup(createElement(ThinClassesWarning, { classes, counts: [{ code: 2, voxels: 1445 }] }))).toBe('');
  });
});
