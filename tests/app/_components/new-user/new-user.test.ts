/**
 * Small things a new mineralogist meets: a trace mineral reads "<0.1 %" everywhere (the Data
 * step's legend said "0.0 %" where Correlate said "<0.1 %"); the volume upload's voxel-size box
 * reads one number or z,y,x and refuses what is not a size; Accept asks first when landmark pairs
 * disagree by more than 3 voxels; the depth profile and histograms name their classes and axes.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { formatPct } from '@/app/_components/format';
import { parseVoxelSize } from '@/app/_components/upload/upload-zone';
import { acceptQuestion } from '@/app/_components/correlate/accept-check';
import { ClassHistograms, ConfusionMatrix, DepthProfile, TrainingCurves } from '@/app/_components/results/charts';

describe('formatPct', () => {
  it('a positive share below the shown precision reads "<0.1 %", zero reads "0.0 %"', () => {
    expect(formatPct(0.0004)).toBe('<0.1 %');
    expect(formatPct(0.00004, 2)).toBe('<0.01 %');
    expect(formatPct(0)).toBe('0.0 %');
    expect(formatPct(0.0005)).toBe('0.1 %');
    expect(formatPct(0.527)).toBe('52.7 %');
  });
});

describe('the voxel-size box', () => {
  it('empty = the file\'s; one number = isotropic; z,y,x; anything else refused', () => {
    expect(parseVoxelSize('')).toBeNull();
    expect(parseVoxelSize(' 2.5 ')).toEqual([2.5, 2.5, 2.5]);
    expect(parseVoxelSize('5, 2.5, 2.5')).toEqual([5, 2.5, 2.5]);
    expect(parseVoxelSize('5 x 2.5 x 2.5')).toEqual([5, 2.5, 2.5]);
    for (const bad of ['2,5µ', '0', '-1', '1,2', 'abc', '1e9']) expect(parseVoxelSize(bad), bad).toBe('bad');
  });
});

describe('Accept after landmark pairs', () => {
  it('asks when the pairs disagree by more than 3 voxels, naming the figure in voxels and µm', () => {
    expect(acceptQuestion({ source: 'landmarks' }, { rms: 2433.98 }, 2)).toMatch(/disagree by 2434\.0 voxels \(4870 µm\)/);
    expect(acceptQuestion({ source: 'landmarks' }, { rms: 0.8 }, 2)).toBeNull();
    expect(acceptQuestion({ source: 'auto' }, { rms: 50 }, 2)).toBeNull();
    expect(acceptQuestion({ source: 'landmarks' }, null, 2)).toBeNull();
  });
});

describe('charts name their axes and classes', () => {
  const classes = [
    { code: 1, name: 'pore', color: [40, 40, 110] as [number, number, number] },
    { code: 2, name: 'quartz', color: [236, 220, 180] as [number, number, number] },
  ];
  it('depth profile: a y label and a swatch legend with every class, right of the plot', () => {
    const html = renderToStaticMarkup(createElement(DepthProfile, { classes, depthsUm: [0, 10, 20], fractions: [{ 1: 0.2, 2: 0.8 }, { 1: 0.3, 2: 0.7 }, { 1: 0.1, 2: 0.9 }], voxels: [5, 5, 5] }));
    expect(html).toContain('share of the voxels at that depth');
    expect(html).toMatch(/data-testid="depth-legend"[\s\S]*quartz[\s\S]*pore/);
  });
  it('histograms: a y label and class names in dark text beside swatches (a pale class colour could not be read)', () => {
    const html = renderToStaticMarkup(createElement(ClassHistograms, { classes, lo: 0, hi: 100, counts: { 1: [1, 2, 3], 2: [3, 2, 1] } }));
    expect(html).toContain('share of the class&#x27;s voxels');
    expect(html).toMatch(/<rect[^>]*fill="rgb\(236,220,180\)"[^>]*><\/rect><text[^>]*fill="#333"[^>]*>quartz/);
  });
  it('confusion matrix names its rows; training curves name the accuracy axis and keep the legend above the plot', () => {
    expect(renderToStaticMarkup(createElement(ConfusionMatrix, { classes, confusion: [[5, 1], [0, 7]] }))).toContain('EDS label ↓');
    const html = renderToStaticMarkup(createElement(TrainingCurves, { history: [{ epoch: 0, loss: 1, valLoss: 0.8, valAccuracy: 0.99 }, { epoch: 1, loss: 0.5, valLoss: 0.4, valAccuracy: 1 }], maxEpochs: 2 }));
    expect(html).toContain('held-out accuracy</text>');
    // legend at y = M.top - 2 = 12 (three 13 px lines: to ~41); the plot's 100 % line at M.top + 40 = 54
    expect(html).toMatch(/data-testid="training-legend" transform="translate\(52,12\)"/);
    expect(html).toMatch(/transform="translate\(432,54\)"><line x2="4"><\/line><text x="8" dy="0.32em" text-anchor="start">100%/);
  });
});

describe('Train with one labelled class', () => {
  it('names the one class and says what to change; silent with two', async () => {
    const { OneClassWarning } = await import('@/app/_components/train/one-class-warning');
    const one = renderToStaticMarkup(createElement(OneClassWarning, { projectId: 'p1', counts: [{ code: 1, name: 'pore', voxels: 0 }, { code: 2, name: 'quartz', voxels: 5613 }] }));
    expect(one).toMatch(/Only <strong>quartz<\/strong> has labelled voxels/);
    expect(one).toContain('href="/projects/p1/correlate"');
    expect(renderToStaticMarkup(createElement(OneClassWarning, { projectId: 'p1', counts: [{ code: 1, name: 'pore', voxels: 3 }, { code: 2, name: 'quartz', voxels: 5 }] }))).toBe('');
  });
});

describe('the import line', () => {
  it('says the step once, not the file name twice', async () => {
    const { importStep } = await import('@/app/_components/upload/upload-zone');
    expect(importStep('importing slices.zip', 'slices.zip')).toBe('importing');
    expect(importStep('unpacking tima.zip', 'tima.zip')).toBe('unpacking');
    expect(importStep('writing overview levels', 'x.tif')).toBe('writing overview levels');
    expect(importStep(null, 'x.tif')).toBe('importing on the server');
  });
});
