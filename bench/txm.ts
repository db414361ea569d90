/**
 * `npm run bench -- txm [--shape z,y,x] [--runs N] [--dir /tmp]`
 *
 * Zeiss .txm import (issue 16 §1) against the NRRD import of the same voxels: a uint16 volume
 * (default 300 x 512 x 512, 157 MB, 3 ImageData folders) is written once as a .txm by the `cfb`
 * package and once as a raw NRRD; each is imported into an OME-Zarr store in a child process
 * (the same store writer, so the difference is the reader). Prints the median time, MB/s, the
 * ratio txm / NRRD and each child's peak RSS (VmHWM): the .txm reader
 * streams slice by slice, so its peak must stay near the NRRD's, far below the file size.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatNrrdHeader } from '../lib/synthetic/nrrd-writer-node';
import { writeTxm } from '../lib/volume/formats/txm-writer-node';
import type { Shape3 } from '../lib/volume/types';

const here = fileURLToPath(import.meta.url);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function child(src: string, dest: string): Promise<void> {
  const { importVolume } = await import('../lib/volume/import-node');
  const t0 = performance.now();
  await importVolume(src, dest);
  const seconds = (performance.now() - t0) / 1000;
  // VmHWM starts again at exec; resourceUsage().maxRSS keeps the parent's peak from before the fork
  const hwmKiB = Number(/VmHWM:\s+(\d+)/.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  process.stdout.write(`${JSON.stringify({ seconds, rssMiB: hwmKiB / 1024 })}\n`);
}

function runChild(src: string, dest: string): Promise<{ seconds: number; rssMiB: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', here, '--child', src, dest], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += String(d)));
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`bench txm: child failed (${code})`))));
  });
}

export async function run(args: string[]): Promise<void> {
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const shape = (opt('--shape')?.split(',').map(Number) ?? [300, 512, 512]) as Shape3;
  const runs = Number(opt('--runs') ?? 3);
  const base = await mkdtemp(path.join(opt('--dir') ?? tmpdir(), 'petromap-bench-txm-'));
  const [nz, ny, nx] = shape;
  const voxels = new Uint16Array(nz * ny * nx);
  for (let i = 0; i < voxels.length; i++) voxels[i] = (Math.imul(i, 2654435761) >>> 20) + ((i % nx) > nx / 2 ? 30000 : 9000);
  const MB = voxels.byteLength / 1e6;
  try {
    const txm = path.join(base, 'scan.txm');
    const nrrd = path.join(base, 'scan.nrrd');
    await writeTxm(txm, { shape, voxels, pixelSizeUm: 2 });
    const header = formatNrrdHeader({ meta: { shape, spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, data: new Uint16Array(0) });
    await writeFile(nrrd, Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(voxels.buffer)]));
    console.log(`volume ${shape.join(' x ')} uint16 = ${MB.toFixed(0)} MB; ${runs} run(s) each, alternating; node ${process.version}`);
    const res: Record<'txm' | 'nrrd', { seconds: number; rssMiB: number }[]> = { txm: [], nrrd: [] };
    for (let r = 0; r < runs; r++) {
      for (const [k, src] of [['txm', txm], ['nrrd', nrrd]] as const) {
        const dest = path.join(base, `${k}-${r}.ome.zarr`);
        res[k].push(await runChild(src, dest));
        await rm(dest, { recursive: true, force: true });
      }
    }
    const t = { txm: median(res.txm.map((x) => x.seconds)), nrrd: median(res.nrrd.map((x) => x.seconds)) };
    for (const k of ['txm', 'nrrd'] as const) {
      const rss = Math.max(...res[k].map((x) => x.rssMiB));
      console.log(`import ${k.padEnd(4)}: median ${t[k].toFixed(2)} s (${res[k].map((x) => x.seconds.toFixed(2)).join(', ')}) = ${(MB / t[k]).toFixed(0)} MB/s; peak RSS ${rss.toFixed(0)} MiB (${((rss * 2 ** 20) / voxels.byteLength).toFixed(2)} x volume)`);
    }
    console.log(`ratio txm / nrrd time: ${(t.txm / t.nrrd).toFixed(2)}`);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--child') {
  child(process.argv[3]!, process.argv[4]!).catch((err) => {
    process.stderr.write(`bench txm child: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
