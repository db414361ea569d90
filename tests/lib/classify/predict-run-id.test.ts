/**
 * A prediction run and its output folder (in process; the queue's side: tests/cluster/stale-run.test.ts):
 * - a scan replaced at the same path since the prediction started is not resumed with the old
 *   scan's bricks: the run starts afresh and says so (before: the old bricks were kept, silently);
 * - a brick of a run the folder no longer holds is refused before it writes a chunk;
 * - a finished prediction's stores hold every chunk (air bricks as zeros) and refuse a missing one.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPredictTarget, predictBrickToStores } from '../../../lib/classify/brick-write-node';
import { trainClassifier } from '../../../lib/classify/model';
import { saveModel } from '../../../lib/classify/model-io-node';
import { predictVolume } from '../../../lib/classify/predict-node';
import { buildTrainingSet, featureFnFor, surfaceLabelVoxels } from '../../../lib/classify/training-set';
import { isPetromapError } from '../../../lib/errors';
import type { Shape3 } from '../../../lib/volume/types';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { TEST_SET } from './helpers';
import { fixture } from './sample';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-predict-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const BRICK: Shape3 = [16, 32, 32];

describe('a prediction run and its output folder', () => {
  const { sample, surfaceLabels } = fixture();
  const shape = sample.volume.meta.shape;
  const all = { start: [0, 0, 0] as Shape3, shape };
  const v1 = join(tmp, 'v1.ome.zarr'), v2 = join(tmp, 'v2.ome.zarr'), modelDir = join(tmp, 'model');
  const labelsOf = async (out: string) => Buffer.from(((await (await openVolume(join(out, 'labels.ome.zarr'))).readBlock(all)) as Uint8Array).buffer);

  beforeAll(async () => {
    const store = await writeDenseVolume(v1, sample.volume, { chunk: [32, 64, 64] });
    // a second reconstruction of the same scan: same size and voxel size, other grey values
    const d = sample.volume.data as Uint16Array;
    await writeDenseVolume(v2, { meta: sample.volume.meta, data: Uint16Array.from(d, (v) => Math.round(v * 0.85 + 5)) }, { chunk: [32, 64, 64] });
    const ts = await buildTrainingSet(store, surfaceLabelVoxels(surfaceLabels, shape), { features: featureFnFor(TEST_SET), featureSet: TEST_SET, mirrorSurface: sample.truth.surface, maxPerClass: 1000 });
    const tm = await trainClassifier(ts, { epochs: 5 });
    await saveModel(modelDir, tm, { classNames: ts.classes.map((c) => `class ${c}`) });
  }, 120_000);

  it('starts afresh, saying so, when the scan at the same path was replaced since the prediction started', async () => {
    const clean = join(tmp, 'clean'), out = join(tmp, 'out'), scan = join(tmp, 'scan.ome.zarr');
    await predictVolume(v2, modelDir, clean, { threads: 1, brick: BRICK, cluster: null, pyramids: false });
    // the first reconstruction, stopped after two bricks
    cpSync(v1, scan, { recursive: true });
    const ac = new AbortController();
    const first = await predictVolume(scan, modelDir, out, { threads: 1, brick: BRICK, cluster: null, pyramids: false, signal: ac.signal, onProgress: (_f, m) => { if (/^brick 3 of/.test(m ?? '')) ac.abort(); } }).catch((e: unknown) => e);
    expect(isPetromapError(first, 'Aborted')).toBe(true);
    const kept = readdirSync(join(out, 'bricks')).filter((f) => f.endsWith('.done') && !readFileSync(join(out, 'bricks', f), 'utf8').includes('"air"')).length;
    expect(kept).toBeGreaterThanOrEqual(1);
    // the right reconstruction re-imported under the same name, the same command again
    rmSync(scan, { recursive: true, force: true });
    cpSync(v2, scan, { recursive: true });
    const said: string[] = [];
    const r = await predictVolume(scan, modelDir, out, { threads: 1, brick: BRICK, cluster: null, pyramids: false, onProgress: (_f, m) => { if (m) said.push(m); } });
    expect(r.restarted).toMatch(/was replaced since this prediction started .* starting afresh/);
    expect(said).toContain(r.restarted);
    // before: the kept bricks of the old scan were skipped and stayed in the map
    expect(r.bricksDone).toBe(r.bricksTotal - r.bricksSkipped);
    expect((await labelsOf(out)).equals(await labelsOf(clean))).toBe(true);
    // the same scan again: resumed, nothing redone, the run id kept
    const again = await predictVolume(scan, modelDir, out, { threads: 1, brick: BRICK, cluster: null, pyramids: false });
    expect(again.restarted).toBeUndefined();
    expect(again.bricksDone).toBe(0);
    expect(again.runId).toBe(r.runId);
  }, 120_000);

  it('refuses a brick of a run the folder no longer holds; a finished prediction holds every chunk and refuses a missing one', async () => {
    const out = join(tmp, 'out-full');
    // a surface at z 20: the bricks of z 0-15 are all air (nothing to classify; before, their chunks were never written)
    const r = await predictVolume(v1, modelDir, out, { threads: 1, brick: BRICK, cluster: null, mirrorSurface: { a: 0, b: 0, c: 20 } });
    expect(JSON.parse(readFileSync(join(out, 'predict.json'), 'utf8')).runId).toBe(r.runId);
    const labels = await openVolume(r.labelsPath);
    expect(labels.complete).toBe(true);
    // every level-0 chunk exists, the air bricks' too (before: left unwritten, read as 0)
    const grid = shape.map((n, a) => Math.ceil(n / BRICK[a]!));
    for (let z = 0; z < grid[0]!; z++) for (let y = 0; y < grid[1]!; y++) for (let x = 0; x < grid[2]!; x++) {
      expect(existsSync(labels.chunkFile([z, y, x]))).toBe(true);
      expect(existsSync((await openVolume(r.probabilitiesPath)).chunkFile([z, y, x], 0, 1))).toBe(true);
    }
    expect(r.bricksSkipped).toBe(grid[1]! * grid[2]!);
    expect(Array.from(await labels.readBlock({ start: [0, 0, 0], shape: [16, shape[1], shape[2]] })).every((v) => v === 0)).toBe(true);
    const before = await labelsOf(out);

    // a brick of an abandoned run (another run id) is refused before it writes: the chunk is untouched
    const t = await openPredictTarget({ storePath: v2, modelDir, outDir: out, mirror: sample.truth.surface, outRunId: 'an-abandoned-run' });
    const box = { start: [16, 32, 32] as Shape3, shape: BRICK };
    const chunk = readFileSync(labels.chunkFile([1, 1, 1]));
    await expect(predictBrickToStores(t, box)).rejects.toThrow(/no longer holds the prediction run this brick belongs to \(run an-abandoned-run; the folder's predict\.json names run [0-9a-f-]+\): brick 16_32_32 of that abandoned run was not written/);
    expect(readFileSync(labels.chunkFile([1, 1, 1])).equals(chunk)).toBe(true);
    expect((await labelsOf(out)).equals(before)).toBe(true);

    rmSync(labels.chunkFile([0, 0, 0]));
    await expect((await openVolume(r.labelsPath)).readBlock(all)).rejects.toThrow(/chunk 0\/0\/0 of pyramid level 0 is missing on disk/);
  }, 120_000);
});
