/**
 * The one registration entry (registerEdsToVolume: the CLI, the server's jobs and the benches)
 * refuses a map far larger than the scan at its voxel size from the sizes alone, before the
 * surface is found or the search allocates (the real TIMA export, 20 mm at 12.05 µm/px, on a
 * 160-voxel scan at an assumed 1 µm grew the search past 6 GiB at 0 %), and its automatic search
 * stops between steps when its AbortSignal fires (Cancel did nothing while the search ran).
 */
import { describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { checkMapScale, coarseGrid, MAX_SEARCH_BYTES, searchBytes } from '../../../lib/registration/map-scale';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import { makePhantom } from './phantom';

const phantom = makePhantom({});

async function rejection(p: Promise<unknown>) {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('a map far larger than the scan at its voxel size', () => {
  const tima = { width: 1660, height: 1660, pixelSizeUm: 12.048, name: 'STA-export.zip', classes: 30 };
  const scan = { shape: [96, 160, 160], spacingUm: [1, 1, 1] };

  it('is refused in words naming both sizes, the voxel size (assumed or not) and what to check', () => {
    expect(() => checkMapScale(tima, scan, { spacingAssumed: true })).toThrow(/covers 20 mm × 20 mm \(1660 × 1660 px at 12.05 µm\/px\), that is 20000 × 20000 voxels of 1 µm: 125 times as wide as the scan \(160 × 160 voxels, 160 µm × 160 µm\)\. The automatic search cannot cover a map that large \(it would need [\d.]+ GiB, more than its 512 MiB\)\..*no voxel size, so 1 µm was assumed.*import the scan again with its voxel size.*crop the map.*3 landmark pairs/);
    expect(() => checkMapScale(tima, scan)).toThrow(/Check the voxel size of the scan and the pixel size of the map/);
    // the search's own arrays at that size: ~7200² FFT grid, 43 arrays of it per thread
    expect(searchBytes(coarseGrid(160, 160, 1660, 1660, 12.048), 30, 2)).toBeGreaterThan(30 * MAX_SEARCH_BYTES);
  });

  it('goes ahead where the search fits: the export on a scan at its own voxel size, the demo, the phantoms of these tests', () => {
    expect(() => checkMapScale(tima, { shape: [400, 1700, 1700], spacingUm: [12, 12, 12] })).not.toThrow();
    expect(() => checkMapScale({ width: 102, height: 102, pixelSizeUm: 2.5, name: 'demo' }, { shape: [96, 160, 160], spacingUm: [2, 2, 2] })).not.toThrow();
    // the moderately large map of the cancellation test below: ~4 times as wide as the scan
    const g = coarseGrid(96, 96, phantom.map.width, phantom.map.height, 4 * phantom.map.pixelSizeUm);
    expect(searchBytes(g, 8, 2)).toBeLessThan(0.1 * MAX_SEARCH_BYTES);
  });

  it('is refused by registerEdsToVolume before any stage starts (no surface, no slab, no search arrays)', async () => {
    // a map declared 100 times its pixel size: 7700 voxels wide on a 96-voxel scan, cheap to build
    const huge = { ...phantom.map, pixelSizeUm: 100 * phantom.map.pixelSizeUm };
    for (const inWorker of [false, true]) {
      const seen: number[] = [];
      const ab0 = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      const err = await rejection(registerEdsToVolume(phantom.volume, huge, { inWorker, voxelSizeAssumed: true, onProgress: (f) => seen.push(f) }));
      const ms = performance.now() - t0;
      expect(isPetromapError(err, 'Unprocessable')).toBe(true);
      expect(err.message).toMatch(/7700 × 7700 voxels of 1 µm: 80 times as wide as the scan \(96 × 96 voxels.*1 µm was assumed/);
      expect(seen).toEqual([]); // not even the surface detection began
      expect(process.memoryUsage().arrayBuffers - ab0).toBeLessThan(64 * 2 ** 20);
      expect(ms).toBeLessThan(2000); // sizes only: ~1 ms; the old search ran for minutes
    }
  });

  it('landmarks place such a map without the search (not refused)', async () => {
    const huge = { ...phantom.map, pixelSizeUm: 100 * phantom.map.pixelSizeUm };
    const lms = [[0, 0], [60, 0], [0, 60]].map(([u, v]) => ({ eds: [u, v] as [number, number], slab: [u / 100 + 10, v / 100 + 10] as [number, number] }));
    const err = await registerEdsToVolume(phantom.volume, huge, { landmarks: lms, refine: false }).then(() => null, (e: Error) => e);
    // a 0.6 px map covers almost nothing of the volume: refused for that, not for its size
    if (err) expect(err.message).not.toMatch(/automatic search cannot cover/);
  });
});

describe('the automatic search stops when its AbortSignal fires', () => {
  it('rejects with the abort error soon after Cancel on a moderately large map, without finishing the sweep', async () => {
    // ~4 times as wide as the scan: the sweep takes ~10 s on this machine at load ~20 (96 poses)
    const large = { ...phantom.map, pixelSizeUm: 4 * phantom.map.pixelSizeUm };
    for (const inWorker of [false, true]) {
      const ctrl = new AbortController();
      let poses = 0, posesAtAbort = -1, abortedAt = 0;
      const started = registerEdsToVolume(phantom.volume, large, {
        inWorker, refine: false, signal: ctrl.signal,
        onProgress: (_f, m) => {
          if (!m?.startsWith('searching')) return;
          // Cancel lands as the next task once the 8th pose is reported (not after a fixed time: on a
          // quiet machine the sweep passed half its 96 poses within 1 s); the old sweep held the event
          // loop until it ended, so the task ran only after all of them
          if (++poses === 8) setTimeout(() => { posesAtAbort = poses; abortedAt = performance.now(); ctrl.abort(); }, 0);
        },
      });
      const err = await rejection(started);
      const afterAbortMs = performance.now() - abortedAt;
      expect(isPetromapError(err, 'Aborted')).toBe(true);
      // the abort ran while the sweep was under way (the old sweep held the event loop until it ended)
      expect(posesAtAbort).toBeGreaterThanOrEqual(8);
      expect(posesAtAbort).toBeLessThan(48);
      // this thread stops at its next step; nothing it reports after the abort
      expect(poses - posesAtAbort).toBeLessThanOrEqual(4);
      // the helper thread finishes the one template it is on (~0.2 s here): generous for a loaded machine
      expect(afterAbortMs).toBeLessThan(8000);
    }
  }, 60_000);
});
