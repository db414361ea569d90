/** Issue 15 §2: the quality card shows each truth-free number with its plain sentence. */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { QualityCard } from '@/app/_components/quality/quality-card';
import { QUALITY_EXPLAINED } from '@/lib/classify/quality-estimate';

const q = {
  meanIoU: 0.687, surfaceMeanIoU: 0.744, crossHalf: 0.688, depthAgreement: 0.635, surfaceConfidence: 0.67, depthConfidence: 0.56, outOfRange: 0.011, sampled: 24000,
  perClass: [{ class: 2, estimate: 0.812, surfaceIoU: 0.9, surfaceSupport: 500, depthAgreement: 0.7, crossHalf: 0.8, depthExpected: 0.75, surfaceExpected: 0.85, depthShare: 0.6, labelShare: 0.58 }],
};

describe('QualityCard', () => {
  it('shows the 3D estimate beside the surface check, with what each means', () => {
    const html = renderToStaticMarkup(createElement(QualityCard, { q }));
    expect(html).toContain('68.7 % (likely 64 %–74 %)');
    // the range widens with the voxels in depth outside the training range (10 %: ±0.21)
    expect(renderToStaticMarkup(createElement(QualityCard, { q: { ...q, outOfRange: 0.1 } }))).toContain('68.7 % (likely 48 %–90 %)');
    expect(html).toContain('74.4');
    expect(html).toContain('24000 voxels in depth');
    for (const s of Object.values(QUALITY_EXPLAINED)) expect(html).toContain(s.replace(/'/g, '&#x27;'));
    const compact = renderToStaticMarkup(createElement(QualityCard, { q, compact: true }));
    expect(compact).toContain('Estimated 3D mean IoU');
    expect(compact).not.toContain('quality-outside');
    // per class, by name, kept with the model (shown on Results after a reload)
    expect(renderToStaticMarkup(createElement(QualityCard, { q, compact: true, classes: [{ code: 2, name: 'quartz' }] }))).toMatch(/quartz<\/td><td[^>]*><strong>81 %<\/strong>/);
    expect(renderToStaticMarkup(createElement(QualityCard, { q: { ...q, perClass: undefined } }))).not.toContain('quality-per-class');
    expect(renderToStaticMarkup(createElement(QualityCard, { q: null }))).toBe('');
    // without half-models (the default) their row and column are left out, not shown as dashes
    const noHalves = renderToStaticMarkup(createElement(QualityCard, { q: { ...q, crossHalf: NaN, depthAgreement: null as unknown as number, perClass: q.perClass.map((c) => ({ ...c, depthAgreement: NaN, crossHalf: NaN })) } }));
    expect(noHalves).toContain('Estimated 3D mean IoU');
    expect(noHalves).not.toContain('quality-agreement');
    expect(noHalves).not.toContain('>half-models agree in depth</th>');
    // nor does the per-class sentence speak of that column
    expect(noHalves).toContain('Per class: the estimated 3D IoU');
    expect(noHalves).not.toContain('half-models');
  });
});
