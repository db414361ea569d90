/** The Multi-scale charts name their axes in units and say what bar, whisker and dot are (e2e 08 reads the same text). */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ClassPorosityChart, DepthPorosityChart } from '@/app/projects/[projectId]/multiscale/_components/charts';

const text = (html: string) => html.replace(/<[^>]+>/g, '');

describe('Multi-scale charts', () => {
  it('class chart: y label in units, legend for bar, whisker and dot', () => {
    const html = renderToStaticMarkup(createElement(ClassPorosityChart, { rows: [{ name: 'high porosity', value: 0.27, low: 0.25, high: 0.3, measured: 0.268, color: '#38c' }] }));
    expect(text(html)).toMatch(/porosity \(fraction\)[\s\S]*whisker: its 95 % interval/);
  });
  it('depth chart: both axes named', () => {
    const html = renderToStaticMarkup(createElement(DepthPorosityChart, { depth: [{ z: 0, porosity: 0.19 }, { z: 1, porosity: 0.2 }], voxelUm: 8 }));
    expect(text(html)).toMatch(/depth below the top of the scan \(µm\)[\s\S]*mean porosity \(fraction\)/);
  });
});
