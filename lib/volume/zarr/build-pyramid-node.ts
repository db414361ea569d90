/** Fill the overview levels of a store from its level 0, block by block. */
import { throwIfAborted, type StageOptions } from '../../errors';
import type { VolumeStore } from '../store';
import { allocate, voxelCount, type Box3, type Shape3 } from '../types';
import { CHUNK_CONCURRENCY, forEachChunk, runPool, sub } from './chunk-copy';
import { downsample2x, downsample2xInto } from './downsample-2x';
import { DEFAULT_CHUNK, type Downsample } from './store-attrs';
import { ZarrVolumeStore } from './zarr-volume-store-node';

export interface BuildPyramidOptions extends StageOptions {
  /** how many target blocks are processed concurrently (default 2) */
  concurrency?: number;
  /** default: what the store was created with ('mean' unless created with downsample: 'mode') */
  downsample?: Downsample;
  /**
   * only these channels (default all). Each channel's levels depend on that channel alone, so
   * several threads may build different channels of one store at once (their chunks are different
   * files); the store is then marked complete only by `markComplete: true` or a call over all.
   */
  channels?: number[];
  /** set pyramidComplete at the end (default: when all channels were built) */
  markComplete?: boolean;
}

/**
 * Fill levels ≥ 1 from level 0 by mean downsampling (2x2x2, or 1x2x2 where z is not halved),
 * block by block: memory stays bounded by a few source blocks. A single writer: run it only when
 * every writer of level 0 has finished (it reads level 0), through one store instance (its
 * concurrent jobs write different whole chunks of a level, serialised per chunk anyway).
 */
export async function buildPyramid(store: VolumeStore, opts: BuildPyramidOptions = {}): Promise<void> {
  const { signal, onProgress } = opts;
  const chunk = store instanceof ZarrVolumeStore ? store.chunk : DEFAULT_CHUNK;
  const nc = store.meta.channels.length;
  const channels = opts.channels ?? Array.from({ length: nc }, (_, c) => c);
  for (const c of channels) if (!Number.isInteger(c) || c < 0 || c >= nc) throw new Error(`internal: buildPyramid of ${nc} channel(s) asked for channel ${c}`);
  type Job = { level: number; channel: number; box: Box3 };
  const jobsPerLevel: Job[][] = [];
  let total = 0;
  for (let k = 1; k < store.levels; k++) {
    const t = store.levelShape(k);
    const jobs: Job[] = [];
    for (const channel of channels) {
      for (let z = 0; z < t[0]; z += chunk[0]) {
        for (let y = 0; y < t[1]; y += chunk[1]) {
          for (let x = 0; x < t[2]; x += chunk[2]) {
            jobs.push({ level: k, channel, box: { start: [z, y, x], shape: [Math.min(chunk[0], t[0] - z), Math.min(chunk[1], t[1] - y), Math.min(chunk[2], t[2] - x)] } });
          }
        }
      }
    }
    jobsPerLevel.push(jobs);
    total += jobs.length;
  }
  let done = 0;
  onProgress?.(0, 'building the pyramid');
  const concurrency = Math.max(1, opts.concurrency ?? 2);
  const method: Downsample = opts.downsample ?? (store instanceof ZarrVolumeStore ? store.downsample : 'mean');
  for (const jobs of jobsPerLevel) {
    // levels depend on the previous one: finish a level before starting the next
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        throwIfAborted(signal);
        await downsampleBlock(store, job.level, job.channel, job.box, method, signal);
        done++;
        onProgress?.(done / total, `building the pyramid (level ${job.level} of ${store.levels - 1})`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  const mark = opts.markComplete ?? channels.length === nc;
  if (mark && store instanceof ZarrVolumeStore && !store.pyramidComplete) await store.updateAttrs({ pyramidComplete: true });
  onProgress?.(1, 'pyramid built');
}

async function downsampleBlock(store: VolumeStore, level: number, channel: number, box: Box3, method: Downsample, signal?: AbortSignal): Promise<void> {
  const src = store.levelShape(level - 1);
  const dst = store.levelShape(level);
  const fz = src[0] === dst[0] ? 1 : 2;
  const f: Shape3 = [fz, 2, 2];
  const s0 = box.start.map((s, a) => s * f[a]!) as Shape3;
  const s1 = box.start.map((s, a) => Math.min((s + box.shape[a]!) * f[a]!, src[a]!)) as Shape3;
  const sShape = sub(s1, s0);
  const c = store instanceof ZarrVolumeStore ? store.levelChunk(level - 1) : null;
  // chunk by chunk into the target (no source block assembled: no copy, no 8 MB array per job) when
  // every chunk boundary inside the source lies on an even index of the halved axes
  if (store instanceof ZarrVolumeStore && c!.every((k, a) => (a === 0 && fz === 1) || k % 2 === 0 || k >= src[a]!)) {
    const out = allocate(store.meta.dtype, voxelCount(box.shape));
    const jobs: (() => Promise<void>)[] = [];
    forEachChunk({ start: s0, shape: sShape }, c!, (cc, p0, p1) => {
      const to: Shape3 = [(p0[0] - s0[0]) / fz, (p0[1] - s0[1]) / 2, (p0[2] - s0[2]) / 2];
      jobs.push(() =>
        store.withChunk(cc, { channel, level: level - 1, signal }, (chunk) => {
          downsample2xInto(chunk, c!, sub(p0, cc.map((k, a) => k * c![a]!)), sub(p1, p0), fz === 2, method, out, box.shape, to);
        }),
      );
    });
    await runPool(jobs, CHUNK_CONCURRENCY);
    await store.writeBlock(box, out, { channel, level });
    return;
  }
  const data = await store.readBlock({ start: s0, shape: sShape }, { channel, level: level - 1, signal });
  const out = downsample2x(data, sShape, fz === 2, store.meta.dtype, method);
  await store.writeBlock(box, out, { channel, level });
}
