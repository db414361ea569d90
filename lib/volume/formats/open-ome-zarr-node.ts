/**
 * OME-Zarr images written by other tools (ome-zarr-py, bioformats2raw, napari, Fiji's N5/Zarr
 * export, ...): Zarr v2 (.zgroup/.zattrs/.zarray) or v3 (zarr.json, OME-NGFF 0.5), read through
 * zarrita. The full-resolution level of the first multiscale is imported; its z, y and x axes
 * become the volume and any other axis (time, channel) must hold a single plane. The voxel size
 * comes from the level's `scale` transformation (and the multiscale's own) in the axes' units.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as zlib from 'node:zlib';
import { FileSystemStore } from '@zarrita/storage';
import * as zarr from 'zarrita';
import { invalidInput, isPetromapError, unsupported } from '../../errors';
import { checkDecodeBudget, DEFAULT_LIMITS, type Limits, safeMessage } from '../../limits';
import { SOURCE_BYTES, type SourceDType } from '../byte-readers-node';
import type { AnyVoxelArray } from '../types';
import { chunkTooLarge, installCappedCodecs, isDamagedChunk, zstdContentSize } from '../zarr/capped-codecs';
import { zstdInto } from '../zarr/zstd-into-node';
import { markedAssumed } from './assumed-spacing-mark-node';
import { describe } from './describe-volume-node';
import { checkShape, shown, unitlessToUm, unitToUm } from './header-checks-node';
import type { OpenOptions, VolumeReader } from './volume-reader';

// every chunk (also the inner chunks of sharded arrays and those of v2 arrays with filters) decodes
// with a cap of its declared size (../zarr/capped-codecs.ts)
installCappedCodecs();

/** The files that make a folder a Zarr hierarchy (v2 group/array, v3 node). */
const ZARR_MARKERS = ['zarr.json', '.zgroup', '.zarray', '.zattrs'];

/** True when `dir` is the root of a Zarr hierarchy (v2 or v3). */
export async function isZarrFolder(dir: string): Promise<boolean> {
  for (const m of ZARR_MARKERS) if (await fs.promises.stat(nodePath.join(/*turbopackIgnore: true*/ dir, m)).then((s) => s.isFile(), () => false)) return true;
  return false;
}

const ZARR_TYPES: Record<string, SourceDType> = {
  uint8: 'uint8', int8: 'int8', uint16: 'uint16', int16: 'int16', uint32: 'uint32', int32: 'int32', float32: 'float32', float64: 'float64',
};

type Json = Record<string, unknown>;
interface Axis {
  name: string;
  type?: string;
  unit?: string;
}

/** A path named in the metadata: plain names below the folder only (no '..', no absolute path). */
function safeKey(p: unknown, name: string): string {
  const s = typeof p === 'string' ? p.replace(/^\/+|\/+$/g, '') : '';
  if (!s || !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(s) || s.split('/').some((seg) => seg === '.' || seg === '..')) {
    throw invalidInput(`${name}: its OME-Zarr metadata names the image "${shown(String(p))}", which is not a folder inside it; the metadata is damaged.`);
  }
  return s;
}

/**
 * The image folder as a zarrita store that never reads outside it: every key is resolved through
 * links (realpath) and must stay below the folder's own real path, and no file larger than the
 * decode budget is read whole. A link out (a level or chunk folder, a chunk file) is refused
 * without saying whether its target exists.
 */
class ConfinedStore extends FileSystemStore {
  private real: Promise<string>;
  constructor(root: string, private readonly name: string, private readonly limits: Limits) {
    super(root);
    this.real = fs.promises.realpath(root);
  }
  /** `whole`: the file is read whole (a part of a shard file is checked by getRange instead). */
  private async check(key: string, whole = true): Promise<boolean> {
    const rel = key.replace(/^\/+/, '');
    const refuse = () => invalidInput(`${this.name}: "${shown(rel)}" leads out of the image's folder (a link or a path outside it); petromap reads only the files inside the OME-Zarr folder.`);
    if (rel.split('/').some((seg) => seg === '..')) throw refuse();
    const root = await this.real;
    const real = await fs.promises.realpath(nodePath.join(/*turbopackIgnore: true*/ this.root, rel)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (real === undefined) {
      // a missing file (zarr's fill value) is fine only when no link on its way leads out
      const parent = await fs.promises.realpath(nodePath.dirname(nodePath.join(/*turbopackIgnore: true*/ this.root, rel))).catch(() => undefined);
      if (parent !== undefined && parent !== root && !parent.startsWith(root + nodePath.sep)) throw refuse();
      return false;
    }
    if (real !== root && !real.startsWith(root + nodePath.sep)) throw refuse();
    const st = await fs.promises.stat(real);
    // a named pipe (or device) would block the read forever, holding one of Node's I/O threads
    if (!st.isFile() && !st.isDirectory()) throw invalidInput(`${this.name}: ${shown(rel.split('/').join(' › '), 60)} is not a regular file (a named pipe or a device); petromap reads only the files inside the OME-Zarr folder.`);
    if (st.isFile() && whole) checkDecodeBudget(`${this.name}: the file "${shown(rel)}" (${st.size.toLocaleString('en')} bytes)`, st.size, this.limits);
    return true;
  }
  /** Set once the level is open: its chunks' key prefix, compressor and declared decoded size. */
  chunks?: { prefix: string; compressor: string; bytes: number };
  /** set when a zstd frame does not state its decoded size */
  unsized = false;
  /** chunk (or shard) files of the level asked for, and those missing (read as the fill value) */
  chunkReads = { read: 0, missing: 0 };
  #count(key: string, present: boolean): void {
    if (!this.chunks || !key.startsWith(this.chunks.prefix) || /(^|\/)(zarr\.json|\.zarray|\.zattrs|\.zgroup)$/.test(key)) return;
    this.chunkReads.read++;
    if (!present) this.chunkReads.missing++;
  }
  override async get(key: `/${string}`, opts?: Parameters<FileSystemStore['get']>[1]) {
    const present = await this.check(key);
    this.#count(key, present);
    if (!present) return undefined;
    const b = await super.get(key, opts);
    if (b && this.chunks && key.startsWith(this.chunks.prefix) && !/(^|\/)(zarr\.json|\.zarray|\.zattrs|\.zgroup)$/.test(key)) {
      this.checkInflation(key, b, this.chunks);
      if (this.unsized) {
        // a zstd frame without its size: decode it into a buffer of the declared size (fails when it needs more)
        this.unsized = false;
        const z = await zstdInto();
        try {
          z?.decode(b, new Uint8Array(this.chunks.bytes));
        } catch {
          throw invalidInput(`${this.name}: a zstd chunk does not decode to its declared ${this.chunks.bytes.toLocaleString('en')} bytes; the file is damaged.`);
        }
      }
    }
    return b;
  }
  /**
   * zarrita decodes a chunk whole before anything checks its size, so a chunk that inflates far
   * beyond its declared size would take all the memory: its decoded size is checked first (gzip and
   * zlib inflated with a cap, blosc and lz4 by the size in their header).
   */
  private checkInflation(key: string, b: Uint8Array, c: { compressor: string; bytes: number }): void {
    // the chunk's grid position (messages carry no path-like text)
    const at = key.slice(this.chunks!.prefix.length).replace(/^c[/.]/, '').split(/[/.]/).map((v) => shown(v, 8)).join(', ');
    const bomb = () => invalidInput(`${this.name}: the chunk at (${at}) decodes to more than its declared ${c.bytes.toLocaleString('en')} bytes; the file is damaged.`);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (c.compressor === 'gzip' || c.compressor === 'zlib') {
      try {
        (c.compressor === 'gzip' ? zlib.gunzipSync : zlib.inflateSync)(b, { maxOutputLength: Math.max(1, c.bytes) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException)?.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw bomb();
        // anything else is for zarrita to report as a damaged chunk
      }
    } else if (c.compressor === 'zstd') {
      const declared = zstdContentSize(b);
      if (declared !== undefined && declared > c.bytes) throw bomb();
      if (declared === undefined) this.unsized = true;
    } else if (c.compressor === 'blosc' && b.length >= 16 && dv.getUint32(4, true) > c.bytes) throw bomb();
    else if (c.compressor === 'lz4' && b.length >= 4 && dv.getUint32(0, true) > c.bytes) throw bomb();
  }
  /**
   * Part of a shard file (sharded v3 arrays): the shard index's offsets and lengths are checked
   * against the file's size before a buffer of that length is allocated (zarrita allocates it whole).
   */
  override async getRange(key: `/${string}`, range: Parameters<FileSystemStore['getRange']>[1], opts?: Parameters<FileSystemStore['getRange']>[2]) {
    const present = await this.check(key, false);
    // a shard's index is read first (suffix), then its chunks: count the shard file once
    if ('suffixLength' in (range as object)) this.#count(key, present);
    if (!present) return undefined;
    const size = (await fs.promises.stat(nodePath.join(/*turbopackIgnore: true*/ this.root, key.replace(/^\/+/, '')))).size;
    const r = range as { offset?: number; length?: number; suffixLength?: number };
    const ok = 'suffixLength' in r ? Number.isSafeInteger(r.suffixLength) && r.suffixLength! >= 0 && r.suffixLength! <= size
      : Number.isSafeInteger(r.offset) && Number.isSafeInteger(r.length) && r.offset! >= 0 && r.length! >= 0 && r.offset! + r.length! <= size;
    if (!ok) {
      // the shard's grid position (messages carry no path-like text)
      const at = key.slice(key.lastIndexOf('/c/') + 3).split(/[/.]/).map((v) => shown(v, 8)).join(', ');
      throw invalidInput('suffixLength' in r
        ? `${this.name}: the shard at (${at}) is shorter than its index (${size.toLocaleString('en')} bytes); the file is damaged or the array's metadata is wrong.`
        : `${this.name}: the index of the shard at (${at}) points beyond the file (${size.toLocaleString('en')} bytes); the file is damaged.`);
    }
    return super.getRange(key, range, opts);
  }
  override async has(key: `/${string}`) {
    return (await this.check(key)) && super.has(key);
  }
}

/** The compressor of the array at `key` ('gzip', 'zlib', 'blosc', 'lz4', ... or '' when none or sharded) from its metadata file. */
async function compressorOf(root: string, key: string): Promise<string> {
  const dir = nodePath.join(/*turbopackIgnore: true*/ root, key.replace(/^\/+/, ''));
  const read = (f: string) => fs.promises.readFile(nodePath.join(/*turbopackIgnore: true*/ dir, f), 'utf8').then((t) => JSON.parse(t) as Json, () => undefined);
  const v3 = await read('zarr.json');
  if (v3 && Array.isArray(v3.codecs)) {
    const names = (v3.codecs as Json[]).map((c) => String(c?.name ?? ''));
    return names.includes('sharding_indexed') ? '' : (names.find((n) => n !== 'bytes' && n !== 'transpose' && n !== 'crc32c') ?? '');
  }
  const v2 = await read('.zarray');
  const id = v2?.compressor && typeof v2.compressor === 'object' ? String((v2.compressor as Json).id ?? '') : '';
  return Array.isArray(v2?.filters) && v2.filters.length > 0 ? '' : id;
}

/** The OME attributes of a node: v0.5 keeps them under `ome`, earlier versions at the top. */
function omeOf(attrs: Json): Json {
  return attrs.ome && typeof attrs.ome === 'object' ? (attrs.ome as Json) : attrs;
}

async function openNode(store: FileSystemStore, key: string, name: string) {
  try {
    return await zarr.open(zarr.root(store).resolve(key));
  } catch (err) {
    if (isPetromapError(err)) throw err;
    throw invalidInput(`${name}: ${key === '' ? 'its top level' : `"${shown(key)}"`} is not a readable Zarr group or array (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
  }
}

function scaleOf(transforms: unknown, n: number): { scale: number[]; translation: number[] } {
  const scale = new Array<number>(n).fill(1);
  const translation = new Array<number>(n).fill(0);
  if (!Array.isArray(transforms)) return { scale, translation };
  for (const t of transforms as Json[]) {
    const v = Array.isArray(t?.scale) ? (t.scale as unknown[]) : Array.isArray(t?.translation) ? (t.translation as unknown[]) : null;
    if (!v || v.length !== n || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) continue;
    if (t.type === 'scale') v.forEach((x, i) => (scale[i]! *= x as number));
    else if (t.type === 'translation') v.forEach((x, i) => (translation[i]! += x as number));
  }
  return { scale, translation };
}

/** The axes of a multiscale: objects (0.4+), names (0.3) or, before that, t, c, z, y, x. */
function axesOf(ms: Json, ndim: number): Axis[] {
  const a = ms.axes;
  if (Array.isArray(a) && a.length === ndim) return a.map((x) => (typeof x === 'string' ? { name: x } : { name: String((x as Json)?.name ?? ''), type: (x as Json)?.type as string, unit: (x as Json)?.unit as string }));
  return ['t', 'c', 'z', 'y', 'x'].slice(5 - ndim).map((n) => ({ name: n }));
}

export async function openOmeZarr(path: string, name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const store = new ConfinedStore(path, name, limits);
  let node = await openNode(store, '', name);
  // petromap's export of a scan whose voxel size was assumed (attributes / .zattrs petromap.spacingAssumed): read back as assumed
  const assumedMark = node instanceof zarr.Group && ((node.attrs as Json).petromap as Json | undefined)?.spacingAssumed === true;
  let imageKey = '';
  let ms: Json | undefined;
  if (node instanceof zarr.Group) {
    let ome = omeOf(node.attrs as Json);
    if (!Array.isArray(ome.multiscales) && ome['bioformats2raw.layout'] !== undefined) {
      // bioformats2raw: one image per series folder (0, 1, ...), listed in OME/.zattrs when there are several
      const series = await openNode(store, 'OME', name).then((g) => omeOf(g.attrs as Json).series, () => undefined);
      if (Array.isArray(series) && series.length > 1) {
        throw unsupported(
          `${name} holds ${series.length} images (series ${series.slice(0, 4).map((s) => shown(String(s), 12)).join(', ')}${series.length > 4 ? ', …' : ''}); ` +
            `import one of them by giving its folder, e.g. ${name}/${shown(String(series[0]), 12)}.`,
        );
      }
      imageKey = safeKey(Array.isArray(series) && series.length === 1 ? series[0] : '0', name);
      node = await openNode(store, imageKey, name);
      ome = node instanceof zarr.Group ? omeOf(node.attrs as Json) : {};
    }
    const list = ome.multiscales;
    if (!Array.isArray(list) || list.length === 0 || typeof list[0] !== 'object') {
      throw invalidInput(`${name} is a Zarr folder but not an OME-Zarr image (its metadata has no "multiscales"); give the folder of one image, or export the volume as OME-Zarr, TIFF or NRRD.`);
    }
    ms = list[0] as Json;
    const datasets = ms.datasets;
    if (!Array.isArray(datasets) || datasets.length === 0) throw invalidInput(`${name}: its OME-Zarr "multiscales" lists no resolution level; the metadata is damaged.`);
    const levelKey = safeKey((datasets[0] as Json)?.path, name);
    node = await openNode(store, imageKey ? `${imageKey}/${levelKey}` : levelKey, name);
    if (!(node instanceof zarr.Array)) throw invalidInput(`${name}: the full-resolution level "${shown(levelKey)}" is not a Zarr array; the metadata is damaged.`);
  }
  const arr = node as zarr.Array<zarr.DataType, FileSystemStore>;
  const src = ZARR_TYPES[arr.dtype as string];
  if (!src) throw unsupported(`${name}: voxels of type ${shown(String(arr.dtype))} are not supported (8/16/32-bit integers, float32 or float64).`);
  const full = arr.shape.map(Number);
  const axes = ms ? axesOf(ms, full.length) : ['t', 'c', 'z', 'y', 'x'].slice(Math.max(0, 5 - full.length)).map((n) => ({ name: n }) as Axis);
  const spatial = axes.map((a, i) => ({ ...a, i })).filter((a) => a.type === 'space' || (!a.type && /^[zyx]$/i.test(a.name)));
  if (spatial.length !== 3) {
    throw unsupported(`${name} is a ${full.length}-dimensional image with ${spatial.length} space axes (${axes.map((a) => shown(a.name, 8)).join(', ')}); petromap imports a 3D volume (z, y, x).`);
  }
  for (const [i, a] of axes.entries()) {
    if (spatial.some((s) => s.i === i) || full[i] === 1) continue;
    const what = a.type === 'channel' || /^c/i.test(a.name) ? 'channels' : a.type === 'time' || /^t/i.test(a.name) ? 'time points' : `planes along its "${shown(a.name, 12)}" axis`;
    throw unsupported(`${name} holds ${full[i]} ${what}; petromap imports one greyscale 3D volume: save a single ${what === 'channels' ? 'channel' : 'one'} as its own OME-Zarr, TIFF or NRRD.`);
  }
  const [iz, iy, ix] = spatial.map((s) => s.i) as [number, number, number];
  const shape = checkShape([full[iz]!, full[iy]!, full[ix]!], name, src, limits);
  const chunk = arr.chunks.map(Number);
  checkDecodeBudget(`${name}: one chunk (${chunk.join(' x ')} voxels)`, chunk.reduce((a, b) => a * b, 1) * (arr.dtype === 'float64' ? 8 : 4), limits);
  store.chunks = { prefix: `${arr.path.replace(/\/+$/, '')}/`, compressor: await compressorOf(path, arr.path), bytes: chunk.reduce((a, b) => a * b, 1) * SOURCE_BYTES[src] };
  // voxel size: the level's scale times the multiscale's, in each axis' unit
  const notes: string[] = [];
  let um: [number, number, number] | undefined;
  let originUm: [number, number, number] = [0, 0, 0];
  if (ms) {
    const level = scaleOf(((ms.datasets as Json[])[0] as Json).coordinateTransformations, full.length);
    const whole = scaleOf(ms.coordinateTransformations, full.length);
    const s = [iz, iy, ix].map((i) => level.scale[i]! * whole.scale[i]!);
    const t = [iz, iy, ix].map((i) => level.translation[i]! * whole.scale[i]! + whole.translation[i]!);
    const units = [iz, iy, ix].map((i) => axes[i]!.unit);
    const given = ((ms.datasets as Json[])[0] as Json).coordinateTransformations !== undefined;
    if (given && s.every((v) => v > 0)) {
      let toUm = units.map((u) => unitToUm(u));
      if (toUm.some((f) => f === undefined)) {
        const bad = units.find((u, k) => u && toUm[k] === undefined);
        if (bad) throw unsupported(`${name}: its axes are in "${shown(bad, 20)}", not a length unit petromap knows (nanometer, micrometer, millimeter, ...).`);
        const f = unitlessToUm(s, 'the OME-Zarr metadata', notes);
        toUm = toUm.map((v) => v ?? f);
      }
      um = s.map((v, k) => v * toUm[k]!) as [number, number, number];
      originUm = t.map((v, k) => v * toUm[k]!) as [number, number, number];
    }
  }
  const read = describe('ome-zarr', path, shape, src, { um, notes }, originUm, true, 'zarr chunks (decoded to this machine\'s byte order)');
  const desc = assumedMark && read.spacingKnown ? markedAssumed(read, 'OME-Zarr') : read;
  let z = 0;
  return {
    desc,
    async readSlices(out: AnyVoxelArray) {
      const [, ny, nx] = shape;
      const n = out.length / (ny * nx);
      const sel = full.map((_, i) => (i === iz ? zarr.slice(z, z + n) : i === iy || i === ix ? null : 0));
      let got: { data: ArrayLike<number>; shape: number[]; stride: number[] };
      try {
        got = (await zarr.get(arr, sel as never)) as never;
      } catch (err) {
        if (isPetromapError(err)) throw err;
        const capped = chunkTooLarge(err);
        if (capped && !isDamagedChunk(capped)) throw invalidInput(`${name}: ${capped.message}`, { cause: err });
        throw invalidInput(`${name} is damaged at slices ${z + 1}–${z + n}: a chunk cannot be read (${safeMessage(capped?.message ?? (err as Error)?.message ?? String(err), 80)}).`, { cause: err });
      }
      // the result keeps the z, y, x order of the array's axes; put it in z, y, x
      const order = [iz, iy, ix].sort((a, b) => a - b);
      const pos = [iz, iy, ix].map((i) => order.indexOf(i));
      const [sz, sy, sx] = pos.map((p) => got.stride[p]!) as [number, number, number];
      const data = got.data as unknown as AnyVoxelArray;
      if (sz === ny * nx && sy === nx && sx === 1 && data.length === out.length) out.set(data as never); // converts to the stored type
      else {
        for (let k = 0, o = 0; k < n; k++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) out[o++] = data[k * sz + y * sy + x * sx]!;
      }
      z += n;
    },
    close: async () => {},
    missingChunks: () => ({ ...store.chunkReads, fillValue: Number(arr.fillValue ?? 0) }),
  };
}
