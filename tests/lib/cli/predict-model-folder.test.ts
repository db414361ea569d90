/**
 * `petromap predict --model` given another of petromap's folders answered "No trained classifier in
 * eds (model.json missing or unreadable). Train a model first." Now it says what the folder is and,
 * for a run's folder, where its model is; nothing is written.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { main } from '../../../lib/cli/main';
import { saveMineralMap } from '../../../lib/eds/store-node';
import { writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { capture, cliTempDir } from './cli-session';

const tmp = cliTempDir('petromap-predict-model-');

it('--model given a run folder, an EDS map folder or a volume store is refused naming what it is', async () => {
  const store = path.join(tmp, 'scan.ome.zarr');
  await writeDenseVolume(store, { meta: { shape: [4, 8, 8], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['xrm'] }, data: new Uint8Array(256) });
  const eds = path.join(tmp, 'eds');
  await saveMineralMap(eds, { width: 4, height: 4, pixelSizeUm: 2, labels: new Uint16Array(16).fill(1), companions: [], legend: [{ id: 1, name: 'Quartz', color: [230, 220, 180] }] });
  const run = path.join(tmp, 'run1');
  mkdirSync(path.join(run, 'model'), { recursive: true });
  writeFileSync(path.join(run, 'model', 'model.json'), '{}');
  const out = path.join(tmp, 'out');
  const cases: [string, RegExp][] = [
    [run, /^petromap predict: --model .*run1 is the folder of a petromap run; its model is .*model\. Give --model the folder "petromap train --out" \(or run's model\/\) wrote\.$/],
    [eds, /^petromap predict: --model .*eds is an EDS map folder \(petromap import-eds\), not a model\./],
    [store, /^petromap predict: --model .*scan\.ome\.zarr is a volume store, not a model\./],
  ];
  for (const [model, re] of cases) {
    const r = await capture(() => main(['predict', '--volume', store, '--model', model, '--out', out]));
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(re);
  }
  expect(existsSync(out)).toBe(false);
});
