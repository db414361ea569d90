/**
 * `petromap run`'s output folder (lib/cli/run-output.ts): a folder holding only a run that stopped
 * before training on a doubtful registration is reused by the next run (the stop's message tells the
 * user to run again on it with --accept-registration); any other used folder is still refused.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { checkRunOutFolder, reuseStoppedRun, startRunFolder, type RunRecord } from '../../../lib/cli/run-output';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-run-out-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const record = (o: Partial<RunRecord> = {}): RunRecord => ({
  volume: { store: join(tmp, 'x'), referenced: false, importedFrom: '/data/scan.tif' }, eds: '/data/map', startedAt: '2026-12-07T00:00:00Z', args: [], ...o,
});

async function folder(name: string, rec: RunRecord, files: string[]) {
  const out = join(tmp, name);
  await startRunFolder(out, rec);
  for (const f of files) {
    if (f.endsWith('/')) mkdirSync(join(out, f), { recursive: true });
    else writeFileSync(join(out, f), '{}');
  }
  return out;
}

it('reuses a folder holding only a run stopped at its registration; keeps its imported volume only for the same file', async () => {
  const out = await folder('stopped', record({ stoppedAt: 'registration' }), ['registration.json', 'registration-2.json', 'volume.ome.zarr/']);
  const stopped = await checkRunOutFolder(out, []);
  expect(stopped?.stoppedAt).toBe('registration');
  expect(await reuseStoppedRun(out, stopped!, '/data/scan.tif')).toBe(true);
  expect(readdirSync(out).sort()).toEqual(['.petromap', 'run.json', 'volume.ome.zarr']);

  const other = await folder('stopped-other', record({ stoppedAt: 'registration' }), ['registration.json', 'volume.ome.zarr/']);
  expect(await reuseStoppedRun(other, (await checkRunOutFolder(other, []))!, '/data/another.tif')).toBe(false);
  expect(readdirSync(other).sort()).toEqual(['.petromap', 'run.json']);
});

it('still refuses an unfinished run that did not stop at its registration, a stopped one with more files, and a finished one', async () => {
  const unfinished = await folder('unfinished', record(), ['registration.json']);
  await expect(checkRunOutFolder(unfinished, [])).rejects.toThrow(/already holds an earlier run that did not finish/);
  const trained = await folder('trained', record({ stoppedAt: 'registration' }), ['registration.json', 'model/']);
  await expect(checkRunOutFolder(trained, [])).rejects.toThrow(/already holds an earlier run that did not finish/);
  const user = await folder('user-file', record({ stoppedAt: 'registration' }), ['notes.txt']);
  await expect(checkRunOutFolder(user, [])).rejects.toThrow(/already holds an earlier run/);
  const done = await folder('done', record({ stoppedAt: 'registration', finishedAt: '2026-12-07T01:00:00Z' }), ['registration.json']);
  await expect(checkRunOutFolder(done, [])).rejects.toThrow(/already holds an earlier run/);
});
