/**
 * What `runUpscale` may replace in its output folder (reviewer R4: `petromap upscale --out` removed
 * another tool's composite.ome.zarr and wrote over an NRRD under petromap's output names). The
 * folder is the user's (their results folder, say), so an output name that is already there is
 * replaced only when petromap wrote it:
 * - a Zarr store with petromap's mark in its metadata (v3 zarr.json attributes.petromap; v2 .zattrs
 *   multiscales method "petromap …"), the rule of `--export` (lib/cli/export-labels.ts);
 * - an NRRD whose comment line and a NIfTI whose descrip start with "petromap" (the exporters' own);
 * - a table or report.json that is listed, unchanged (same size and time), in the folder's record of
 *   the last run, `.petromap-upscale.json`, or (written before that record existed) starts as
 *   petromap writes it: the table's column names, report.json's fields;
 * - a TIFF only by the record (its ImageJ description is the one other tools write too).
 * Anything else under an output name is refused in words before any work, and left as it was.
 */
import { lstat, open, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Stats } from 'node:fs';
import { PetromapError } from '../errors';
import { writeTextAtomic } from '../report/export-node';

/** The record of the files the last run wrote into the folder (name -> size and modification time). */
export const UPSCALE_RECORD = '.petromap-upscale.json';

interface RunRecord {
  writer: 'petromap';
  kind: 'upscale';
  files: Record<string, { bytes: number; mtimeMs: number }>;
}

export interface OutputSignatures {
  /** first line (column names) of each table petromap writes, by file name */
  csvHeaders: Record<string, string>;
  /** fields every report.json of petromap's has */
  reportFields: readonly string[];
}

async function readRecord(outDir: string): Promise<RunRecord | undefined> {
  try {
    const o = JSON.parse(await readFile(join(outDir, UPSCALE_RECORD), 'utf8')) as Partial<RunRecord>;
    return o && o.writer === 'petromap' && o.files && typeof o.files === 'object' ? (o as RunRecord) : undefined;
  } catch {
    return undefined;
  }
}

async function head(file: string, bytes: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(b, 0, bytes, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function smallJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    if ((await stat(file)).size > 64 << 20) return undefined; // far larger than any petromap writes
    const o: unknown = JSON.parse(await readFile(file, 'utf8'));
    return o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A Zarr store folder petromap wrote (its mark in the metadata). */
async function isPetromapZarr(dir: string): Promise<boolean> {
  const attrs = (await smallJson(join(dir, 'zarr.json')))?.attributes as Record<string, unknown> | undefined;
  if (attrs && typeof attrs.petromap === 'object' && attrs.petromap !== null) return true;
  const ms = (await smallJson(join(dir, '.zattrs')))?.multiscales;
  const method = Array.isArray(ms) ? (ms[0] as { metadata?: { method?: unknown } } | undefined)?.metadata?.method : undefined;
  return typeof method === 'string' && method.startsWith('petromap ');
}

async function isOurs(file: string, name: string, st: Stats, record: RunRecord | undefined, sig: OutputSignatures): Promise<boolean> {
  if (st.isDirectory()) return isPetromapZarr(file);
  if (!st.isFile()) return false;
  const r = Object.hasOwn(record?.files ?? {}, name) ? record!.files[name] : undefined;
  if (r && r.bytes === st.size && Math.abs(r.mtimeMs - st.mtimeMs) < 1) return true;
  if (name.endsWith('.nrrd')) return (await head(file, 64)).toString('latin1').startsWith('NRRD0004\n# petromap');
  if (name.endsWith('.nii')) {
    const h = await head(file, 348);
    return h.length === 348 && h.subarray(148, 228).toString('latin1').startsWith('petromap');
  }
  if (Object.hasOwn(sig.csvHeaders, name)) {
    const first = (await head(file, 4096)).toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0];
    return first === sig.csvHeaders[name];
  }
  if (name === 'report.json') {
    const o = await smallJson(file);
    return !!o && sig.reportFields.every((f) => Object.hasOwn(o, f));
  }
  return false;
}

/**
 * Refuses (Conflict) when one of `names` in `outDir` is there and petromap did not write it (or it
 * changed since): every such name in one message, nothing touched. Absent names are fine.
 */
export async function checkUpscaleOutputs(outDir: string, names: readonly string[], sig: OutputSignatures): Promise<void> {
  const record = await readRecord(outDir);
  const foreign: string[] = [];
  for (const name of names) {
    const file = join(outDir, name);
    const st = await lstat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (!st) continue;
    if (st.isSymbolicLink() || !(await isOurs(file, name, st, record, sig))) foreign.push(name);
  }
  if (!foreign.length) return;
  const list = foreign.length === 1 ? foreign[0]! : `${foreign.slice(0, -1).join(', ')} and ${foreign.at(-1)!}`;
  const it = foreign.length === 1 ? 'it' : 'them';
  throw new PetromapError(
    'Conflict',
    `The output folder ${basename(outDir)} already holds ${list}, under the name${foreign.length === 1 ? '' : 's'} petromap upscale writes, but petromap did not write ${it} (another program's file${foreign.length === 1 ? '' : 's'}, or changed since petromap wrote ${it}); petromap will not replace ${it}. Nothing was written: move ${it} elsewhere, or choose another output folder (--out).`,
  );
}

/** Record the files this run wrote (absolute paths), so that the next run into the folder may replace them. */
export async function writeUpscaleRecord(outDir: string, files: readonly string[]): Promise<void> {
  const rec: RunRecord = { writer: 'petromap', kind: 'upscale', files: {} };
  for (const f of files) {
    const st = await stat(f).catch(() => null);
    if (st?.isFile()) rec.files[basename(f)] = { bytes: st.size, mtimeMs: st.mtimeMs };
  }
  await writeTextAtomic(join(outDir, UPSCALE_RECORD), JSON.stringify(rec, null, 1) + '\n');
}
