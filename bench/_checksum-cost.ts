/**
 * `npx tsx bench/_checksum-cost.ts [pairs]`: what zstd's content checksum costs a petromap store.
 * Two stores of the same 256³ uint16 rock-like volume (64³ chunks), one written as before the
 * checksum (zarr.json `checksum: false`), one as now; alternated pairs of (a) whole-volume reads
 * through a fresh brick reader (every chunk decoded, the prediction threads' path), (b) through
 * store.readBlock (zarrita's path for non-direct reads: pyramid, server) and (c) whole-volume
 * writes. Prints the medians and the median of the per-pair ratios (new / old) of this process's
 * CPU time (user + system: steadier than wall time on a shared machine) and of wall time. Then the
 * decode alone (zstd-into-node.ts, the only step of a read that differs) of one 64³ chunk, rock-like
 * and smooth, with and without the checksum: 31 alternated pairs of 40 decodes each.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Zstd from 'numcodecs/zstd';
import type { Shape3 } from '../lib/volume/types';
import { brickReader } from '../lib/volume/zarr/brick-reader-node';
import { addContentChecksum } from '../lib/volume/zarr/zstd-checksum';
import { zstdInto } from '../lib/volume/zarr/zstd-into-node';
import { createVolume, openVolume, type ZarrVolumeStore } from '../lib/volume/zarr-store-node';

const N = 256;
const shape: Shape3 = [N, N, N];
const whole = { start: [0, 0, 0] as Shape3, shape };

/** grains of a few grey levels with noise (compresses about as a real scan: ~1.5-2x) */
function rock(): Uint16Array {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new Uint16Array(N * N * N);
  for (let z = 0, i = 0; z < N; z++) {
    for (let y = 0; y < N; y++) {
      for (let x = 0; x < N; x++, i++) {
        const g = ((x >> 4) * 7 + (y >> 4) * 13 + (z >> 4) * 5) % 4;
        out[i] = 8000 + g * 6000 + Math.round((rnd() - 0.5) * 600);
      }
    }
  }
  return out;
}

async function make(dir: string, name: string, checksum: boolean): Promise<string> {
  const p = join(dir, name);
  await createVolume(p, { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xray'] }, { chunk: [64, 64, 64], levels: 1 });
  const f = join(p, '0', 'zarr.json');
  const j = JSON.parse(await readFile(f, 'utf8'));
  j.codecs[1].configuration.checksum = checksum;
  await writeFile(f, JSON.stringify(j));
  return p;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const pairs = Number(process.argv[2] ?? 11);
  const dir = await mkdtemp(join(tmpdir(), 'petromap-checksum-cost-'));
  try {
    const data = rock();
    const paths = { old: await make(dir, 'old.ome.zarr', false), new: await make(dir, 'new.ome.zarr', true) };
    const stores: Record<string, ZarrVolumeStore> = { old: await openVolume(paths.old), new: await openVolume(paths.new) };
    const t: Record<string, Record<string, number[]>> = {};
    for (const what of ['brick', 'store', 'write']) for (const clock of ['cpu', 'wall']) t[`${what} ${clock}`] = { old: [], new: [] };
    const time = async (f: () => Promise<unknown>): Promise<[number, number]> => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await f();
      const c = process.cpuUsage(c0);
      return [(c.user + c.system) / 1000, performance.now() - t0];
    };
    for (let k = -1; k < pairs; k++) {
      for (const v of k % 2 ? ['old', 'new'] : ['new', 'old']) {
        const s = stores[v]!;
        const w = await time(() => s.writeBlock(whole, data, { wholeChunks: true }));
        const b = await time(async () => {
          const r = brickReader(s, { maxBytes: 8 * 2 ** 20 });
          for (let z = 0; z < N; z += 64) for (let y = 0; y < N; y += 128) await r.readBlock({ start: [z, y, 0], shape: [64, 128, N] });
        });
        const r = await time(() => s.readBlock(whole));
        if (k < 0) continue;
        for (const [what, [cpu, wall]] of [['write', w], ['brick', b], ['store', r]] as const) (t[`${what} cpu`]![v]!.push(cpu), t[`${what} wall`]![v]!.push(wall));
      }
    }
    const bytes = (await Promise.all((['old', 'new'] as const).map(async (v) => (await readFile(stores[v]!.chunkFile([1, 1, 1]))).length)));
    console.log(`256³ uint16, 64³ chunks, ${pairs} alternated pairs; chunk [1,1,1] file: ${bytes[0]} B old, ${bytes[1]} B new`);
    for (const [what, r] of Object.entries(t)) {
      const ratios = r.old!.map((o, i) => r.new![i]! / o);
      console.log(`${what.padEnd(11)} median ms old ${median(r.old!).toFixed(1)}, new ${median(r.new!).toFixed(1)}; median ratio new/old ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function decodeCost(): Promise<void> {
  const z = (await zstdInto())!;
  const codec = Zstd.fromConfig({ id: 'zstd', level: 1 });
  const grains = rock().subarray(0, 64 ** 3);
  const smooth = Uint16Array.from({ length: 64 ** 3 }, (_, i) => 1000 + ((i >> 6) % 50));
  for (const [name, a] of [['rock-like', grains], ['smooth', smooth]] as const) {
    const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const plain = await codec.encode(b);
    const checked = addContentChecksum(plain, b);
    const out = new Uint8Array(b.length);
    const cpu = (f: Uint8Array) => {
      const c0 = process.cpuUsage();
      for (let k = 0; k < 40; k++) z.decode(f, out);
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 40 / 1000;
    };
    const t0: number[] = [], t1: number[] = [], r: number[] = [];
    for (let k = 0; k < 31; k++) {
      const [o, n] = k % 2 ? [cpu(plain), cpu(checked)] : [cpu(checked), cpu(plain)].reverse();
      (t0.push(o!), t1.push(n!), r.push(n! / o!));
    }
    console.log(`decode one 64³ uint16 chunk, ${name} (${plain.length} B): CPU ms median ${median(t0).toFixed(3)} without checksum, ${median(t1).toFixed(3)} with; median ratio ${median(r).toFixed(3)} (min ${Math.min(...r).toFixed(3)}, max ${Math.max(...r).toFixed(3)})`);
  }
}

await main();
await decodeCost();
