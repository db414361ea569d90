/**
 * Second new-user pass (engineer E's list): the training legend says its figures are the last
 * epoch's and names the best epoch (the model kept, whose accuracy the summary gives); the Train
 * page lists minerals by area as Correlate does; the Data step says which volume the project uses;
 * the step navigation of a lithology project hints the order; a landmark-only registration says
 * why it has no residual map.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { TrainingCurves } from '@/app/_components/results/charts';
import { inUseNote, switchQuestion } from '@/app/_components/datasets/in-use-note';
import { DatasetTable } from '@/app/_components/datasets/dataset-table';
import type { DatasetRow } from '@/app/_components/datasets/dataset-row';
import { stepsFor } from '@/app/_components/projects/step-nav';
import { byArea } from '@/app/_components/correlate/by-area';
import { noResidualText } from '@/app/projects/[projectId]/correlate/_components/model-panel';

describe('training legend: last epoch and best epoch told apart', () => {
  const history = [0, 1, 2, 3].map((epoch) => ({ epoch, loss: 1 - epoch * 0.1, valLoss: 1 - epoch * 0.05, valAccuracy: [0.7, 0.8, 0.845, 0.847][epoch] }));
  it('the accuracy figure is the last epoch\'s; the best epoch is named as the model kept', () => {
    const html = renderToStaticMarkup(createElement(TrainingCurves, { history, maxEpochs: 4, bestEpoch: 2 }));
    expect(html).toContain('held-out accuracy 84.7 %');
    expect(html).toMatch(/data-testid="legend-last-epoch"[^>]*>figures at the last epoch, 4</);
    expect(html).toMatch(/data-testid="legend-best-epoch"[^>]*>┆ best epoch 3: the model kept</);
  });
  it('while training (no best epoch yet) only the last epoch is named', () => {
    const html = renderToStaticMarkup(createElement(TrainingCurves, { history: history.slice(0, 2), maxEpochs: 10 }));
    expect(html).toContain('figures at the last epoch, 2');
    expect(html).not.toContain('best epoch');
  });
});

describe('Transform model panel without candidates', () => {
  it('a landmark-only registration says in one sentence why there is no residual map', () => {
    const t = noResidualText('landmarks');
    expect(t).toMatch(/^No residual map: .*landmark pairs.*Auto-register/);
    expect(t.split(/\. /).length).toBe(1);
    expect(noResidualText('auto')).toMatch(/^No residual map: .*before/);
  });
});

describe('one mineral order on Correlate and Train', () => {
  it('largest area first, minerals without an area last, legend order among equals', () => {
    const rows = [{ phaseId: 1, name: 'quartz' }, { phaseId: 2, name: 'pyrite' }, { phaseId: 3, name: 'albite' }, { phaseId: 4, name: 'old' }, { phaseId: 5, name: 'calcite' }];
    const legend = [{ id: 1, areaFraction: 0.4 }, { id: 2, areaFraction: 0.001 }, { id: 3, areaFraction: 0.5 }, { id: 5, areaFraction: 0.001 }];
    expect(byArea(rows, legend).map((r) => r.name)).toEqual(['albite', 'quartz', 'pyrite', 'calcite', 'old']);
    expect(byArea(rows, undefined).map((r) => r.phaseId)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0].name).toBe('quartz');
  });
});

describe('step navigation', () => {
  it('a mineralogy project numbers Data, Correlate, Train, Results', () => {
    expect(stepsFor('mineralogy').map((s) => `${s.n} ${s.label}`)).toEqual(['1 Data', '2 Correlate', '3 Train', '4 Results']);
  });
  it('a lithology project numbers its own order and sets Correlate and Train apart, unnumbered, saying when they apply', () => {
    const steps = stepsFor('lithology');
    expect(steps.filter((s) => s.n !== undefined).map((s) => `${s.n} ${s.label}`)).toEqual(['1 Data', '2 Annotate', '3 Multi-scale', '4 Results']);
    const apart = steps.filter((s) => s.n === undefined);
    expect(apart.map((s) => s.label)).toEqual(['Correlate', 'Train']);
    for (const s of apart) expect(s.title).toMatch(/EDS map/);
    expect(steps.slice(-2)).toEqual(apart);
  });
});

describe('the Data step names the volume and map the project uses', () => {
  const row = (id: string, name: string, kind: 'volume' | 'eds', inUse: boolean, face: 'top' | 'bottom' | null = kind === 'eds' ? 'top' : null): DatasetRow => ({ id, name, kind, face, inUse, createdAt: null });
  it('one volume and one map: nothing to say', () => {
    expect(inUseNote([row('a', 'scan.tif', 'volume', true), row('b', 'map.zip', 'eds', true)], 'mineralogy')).toEqual([]);
  });
  it('a second volume: which one is used, what the other is not used by, how to switch', () => {
    const rows = [row('a', 'scan.tif', 'volume', true), row('b', 'map.zip', 'eds', true), row('c', 'rescan.tif', 'volume', false)];
    expect(inUseNote(rows, 'mineralogy')).toEqual(['The project uses the volume scan.tif: rescan.tif is not used by Correlate, Train or Results. To use it instead, click “Use this volume” on its row: what was made from scan.tif is set aside with it and comes back if you choose it again.']);
    expect(inUseNote(rows, 'lithology')[0]).toMatch(/^The project's large scan is the volume scan\.tif: .*\(rescan\.tif\) can be placed as interior scans on Multi-scale, or made the large scan with “Use this volume” on its row\./);
  });
  it('the switch asks first: what goes aside with the volume left, what comes back or that the chosen one starts afresh', () => {
    const plan = { from: { name: 'scan.tif' }, to: { name: 'rescan.tif' }, aside: ['the accepted registration of the top face\'s map map.zip', 'the model trained 2026-12-07 14:05 UTC'], back: [] };
    expect(switchQuestion(plan, 'mineralogy')).toBe('Use the volume rescan.tif for this project instead of scan.tif?\n\nSet aside with scan.tif (not used for rescan.tif; it all comes back if you choose scan.tif again): the accepted registration of the top face\'s map map.zip and the model trained 2026-12-07 14:05 UTC.\n\nrescan.tif starts afresh: find its surface and register the EDS map on Correlate, then train and predict.');
    expect(switchQuestion({ ...plan, aside: [], back: ['1,203 painted voxels'] }, 'lithology')).toMatch(/Nothing was made from scan\.tif yet\.\n\nBack with rescan\.tif, as you left it: 1,203 painted voxels\.$/);
  });
  it('a second top-face map is named; a bottom-face map is not a second top map', () => {
    const rows = [row('a', 'scan.tif', 'volume', true), row('b', 'map.zip', 'eds', true), row('d', 'bottom.zip', 'eds', true, 'bottom'), row('e', 'map2.zip', 'eds', false)];
    expect(inUseNote(rows, 'mineralogy')).toEqual(['Correlate and Train use the EDS map map.zip of the top face (the first one uploaded): map2.zip is not used. To use it instead, delete map.zip.']);
  });
  it('the table marks the rows that share a role: in use / not used', () => {
    const rows = [row('a', 'scan.tif', 'volume', true), row('b', 'map.zip', 'eds', true), row('c', 'rescan.tif', 'volume', false)];
    const html = renderToStaticMarkup(createElement(DatasetTable, { projectId: 'p', rows }));
    expect(html).toContain('data-testid="in-use-a"');
    expect(html).toContain('data-testid="not-used-c"');
    expect(html).not.toMatch(/data-testid="(in-use|not-used)-b"/);
    // a volume not used offers the switch (only where the page handles it)
    expect(html).not.toContain('use-volume-c');
    const withSwitch = renderToStaticMarkup(createElement(DatasetTable, { projectId: 'p', rows: rows.map((r): DatasetRow => (r.kind === 'volume' ? { ...r, volume: { datasetId: r.id, name: r.name, shape: [2, 2, 2], spacing: [1, 1, 1], dtype: 'uint8', channels: ['grey'], levelShapes: [[2, 2, 2]] } } : r)), onUseVolume: () => undefined }));
    expect(withSwitch).toContain('data-testid="use-volume-c"');
    expect(withSwitch).not.toContain('use-volume-a');
  });
});
