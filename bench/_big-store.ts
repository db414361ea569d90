/**
 * A large uint16 store written blockwise (one 64-slice slab at a time, never held whole), with a
 * grain-like pattern and hash noise: the input of the peak-RSS measurements (features, predict).
 */
import type { Shape3 } from '../lib/volume/types';
import { createVolume } from '../lib/volume/zarr-store-node';

export async function writeBigStore(path: string, size: number): Promise<void> {
  const shape: Shape3 = [size, size, size];
  const store = await createVolume(path, { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, { levels: 1, compression: 'zstd' });
  const buf = new Uint16Array(64 * size * size);
  for (let z0 = 0; z0 < size; z0 += 64) {
    const bz = Math.min(64, size - z0);
    let i = 0;
    for (let z = 0; z < bz; z++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const g = Math.sin((z0 + z) * 0.11) * Math.sin(y * 0.13) * Math.sin(x * 0.17);
      buf[i++] = 20000 + 8000 * (g > 0.1 ? 1 : 0) + ((((z0 + z) * 73856093) ^ (y * 19349663) ^ (x * 83492791)) & 2047);
    }
    await store.writeBlock({ start: [z0, 0, 0], shape: [bz, size, size] }, bz === 64 ? buf : buf.subarray(0, bz * size * size));
  }
}

/** Peak resident memory of this process so far (VmHWM), in KiB. */
export async function peakRssKiB(): Promise<number> {
  const { readFileSync } = await import('node:fs');
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
}
