/**
 * `npm run bench -- import [--shape z,y,x] [--runs N] [--dir /tmp] [--keep]`
 *
 * Streams a ≥ 1 GiB uint16 volume (default 704 x 768 x 1024, 1.1 GB) to a headerless raw file and to
 * a raw NRRD, slice by slice, then imports each into an OME-Zarr store in a child process while the
 * parent samples the child's peak RSS (/proc/<pid>/status VmHWM). Prints throughput (source MB/s,
 * median of the runs), peak RSS and peak RSS / volume size. For comparison, times ITK-Wasm
 * readImageNode (the whole volume in memory) against our import on a 256^3 NRRD.
 * The source files are freshly written, so they are read from the page cache.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatNrrdHeader } from '../lib/synthetic/nrrd-writer-node';
import type { Shape3 } from '../lib/volume/types';

const here = fileURLToPath(import.meta.url);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One slice of a structured test volume: smooth "grains" with noise, uint16. */
function fillSlice(out: Uint16Array, z: number, ny: number, nx: number, seed: number): void {
  let s = (seed * 2654435761 + z * 40503) >>> 0;
  for (let y = 0; y < ny; y++) {
    const cy = Math.cos(y * 0.071 + z * 0.013);
    for (let x = 0; x < nx; x++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      const g = Math.sin(x * 0.053 + z * 0.037) * cy;
      const phase = g > 0.45 ? 42000 : g > -0.2 ? 26000 : 9000;
      out[y * nx + x] = phase + (s >>> 21);
    }
  }
}

async function writeVolume(file: string, shape: Shape3, header?: string): Promise<void> {
  const [nz, ny, nx] = shape;
  const ws = createWriteStream(file, { highWaterMark: 1 << 22 });
  const write = (b: Uint8Array) => new Promise<void>((res, rej) => (ws.write(b, (e) => (e ? rej(e) : res()))));
  if (header) await write(Buffer.from(header, 'latin1'));
  const slice = new Uint16Array(ny * nx);
  for (let z = 0; z < nz; z++) {
    fillSlice(slice, z, ny, nx, 1);
    await write(new Uint8Array(slice.buffer.slice(0)));
  }
  await new Promise<void>((res, rej) => ws.end((e?: Error | null) => (e ? rej(e) : res())));
}

function nrrdHeader(shape: Shape3): string {
  return formatNrrdHeader({ meta: { shape, spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, data: new Uint16Array(0) });
}

interface ChildResult {
  seconds: number;
  hwmKiB: number;
  storeBytes?: number;
}

function readHwmKiB(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8')
    .then((t) => Number(/VmHWM:\s+(\d+)/.exec(t)?.[1] ?? 0))
    .catch(() => 0);
}

/** Run the child mode of this file; the parent samples VmHWM every 100 ms. */
async function runChild(args: string[]): Promise<ChildResult & { parentHwmKiB: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', here, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  let parentHwm = 0;
  const timer = setInterval(async () => {
    parentHwm = Math.max(parentHwm, await readHwmKiB(child.pid!));
  }, 100);
  const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
  clearInterval(timer);
  if (code !== 0) throw new Error(`bench import: child failed (${code}): ${out}`);
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
  return { ...r, parentHwmKiB: Math.max(parentHwm, r.hwmKiB) };
}

async function dirBytes(p: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let total = 0;
  for (const e of await readdir(p, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return total;
}

/** Child mode: import (or ITK-read) one file and report timings and own VmHWM as JSON. */
async function child(args: string[]): Promise<void> {
  const [mode, src, dest, shapeArg] = args;
  const t0 = performance.now();
  if (mode === 'itk') {
    const { readImageNode } = await import('@itk-wasm/image-io');
    const img = await readImageNode(src!);
    if (!img.data) throw new Error('no data');
  } else {
    const { importVolume } = await import('../lib/volume/import-node');
    const raw = mode === 'raw' ? { shape: shapeArg!.split(',').map(Number) as Shape3, dtype: 'uint16' as const, littleEndian: true } : undefined;
    await importVolume(src!, dest!, { raw });
  }
  const seconds = (performance.now() - t0) / 1000;
  const hwmKiB = await readHwmKiB(process.pid);
  const storeBytes = mode === 'itk' ? undefined : await dirBytes(dest!);
  process.stdout.write(`${JSON.stringify({ seconds, hwmKiB, storeBytes })}\n`);
}

export async function run(args: string[]): Promise<void> {
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const shape = (opt('--shape')?.split(',').map(Number) ?? [704, 768, 1024]) as Shape3;
  const runs = Number(opt('--runs') ?? 3);
  const base = await mkdtemp(path.join(opt('--dir') ?? tmpdir(), 'petromap-bench-import-'));
  const bytes = shape[0] * shape[1] * shape[2] * 2;
  const MB = (b: number) => b / 1e6;
  console.log(`volume ${shape.join(' x ')} uint16 = ${(bytes / 2 ** 30).toFixed(2)} GiB; ${runs} run(s) per format; node ${process.version}; files in ${base}`);
  try {
    const rawFile = path.join(base, 'scan.raw');
    const nrrdFile = path.join(base, 'scan.nrrd');
    let t = performance.now();
    await writeVolume(rawFile, shape);
    await writeVolume(nrrdFile, shape, nrrdHeader(shape));
    console.log(`generated raw + NRRD (streaming) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    for (const [mode, file] of [
      ['raw', rawFile],
      ['nrrd', nrrdFile],
    ] as const) {
      const res: (ChildResult & { parentHwmKiB: number })[] = [];
      for (let r = 0; r < runs; r++) {
        const dest = path.join(base, `${mode}-${r}.ome.zarr`);
        res.push(await runChild([mode, file, dest, shape.join(',')]));
        await rm(dest, { recursive: true, force: true });
      }
      const secs = res.map((r) => r.seconds);
      const hwm = Math.max(...res.map((r) => r.parentHwmKiB)) * 1024;
      console.log(
        `import ${mode.padEnd(4)}: median ${median(secs).toFixed(1)} s (runs ${secs.map((s) => s.toFixed(1)).join(', ')}) = ` +
          `${(MB(bytes) / median(secs)).toFixed(0)} MB/s (read + chunk + zstd + write, pyramid built on the fly); ` +
          `peak RSS ${(hwm / 2 ** 20).toFixed(0)} MiB = ${(hwm / bytes).toFixed(3)} x volume; store ${(res[0]!.storeBytes! / bytes).toFixed(2)} x source`,
      );
    }
    await rm(rawFile);
    await rm(nrrdFile);

    // ITK-Wasm readImageNode (whole volume in memory) vs our import, 256^3 uint16 NRRD
    const small: Shape3 = [256, 256, 256];
    const sb = 256 ** 3 * 2;
    const smallFile = path.join(base, 'small.nrrd');
    await writeVolume(smallFile, small, nrrdHeader(small));
    const itk: number[] = [];
    const ours: number[] = [];
    let itkHwm = 0;
    let oursHwm = 0;
    for (let r = 0; r < runs; r++) {
      const a = await runChild(['itk', smallFile, '', '']);
      itk.push(a.seconds);
      itkHwm = Math.max(itkHwm, a.parentHwmKiB);
      const dest = path.join(base, `small-${r}.ome.zarr`);
      const b = await runChild(['nrrd', smallFile, dest, '']);
      ours.push(b.seconds);
      oursHwm = Math.max(oursHwm, b.parentHwmKiB);
      await rm(dest, { recursive: true, force: true });
    }
    t = median(itk);
    const o = median(ours);
    console.log(
      `256^3 NRRD (${MB(sb).toFixed(0)} MB): ITK-Wasm readImageNode ${t.toFixed(2)} s (${(MB(sb) / t).toFixed(0)} MB/s, peak RSS ${(itkHwm / 1024).toFixed(0)} MiB, read only) | ` +
        `petromap import ${o.toFixed(2)} s (${(MB(sb) / o).toFixed(0)} MB/s, peak RSS ${(oursHwm / 1024).toFixed(0)} MiB, read + chunk + compress + pyramid) | ratio petromap/ITK time ${(o / t).toFixed(2)}`,
    );
  } finally {
    if (!args.includes('--keep')) await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--child') {
  child(process.argv.slice(3)).catch((err) => {
    process.stderr.write(`bench import child: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
