/**
 * A streaming reader of OLE compound files ([MS-CFB]; Zeiss .txm/.txrm are such files): the
 * header, the FAT (read a sector at a time, on demand), the directory and the mini stream, and
 * positional reads of one stream. Nothing is read that a caller does not ask for, so a 20 GB
 * file costs the directory plus the slice being read. (The `cfb` package reads and copies the
 * whole file, so it writes the synthetic files of the tests instead: an independent writer.)
 *
 * Hostile input: every count the header declares (FAT, DIFAT, mini FAT, directory sectors) is
 * bounded by the file's size and the decode budget before anything is allocated from it, a
 * sector chain that loops or leaves the file is refused, and a stream's data past the end of
 * the file is reported as a truncated file.
 */
import * as fs from 'node:fs';
import { invalidInput } from '../../errors';
import { checkDecodeBudget, DEFAULT_LIMITS, type Limits } from '../../limits';

const SIGNATURE = Buffer.from('d0cf11e0a1b11ae1', 'hex');
const ENDOFCHAIN = 0xfffffffe;
const FREESECT = 0xffffffff;
const MAXREGSECT = 0xfffffffa;
const NOSTREAM = 0xffffffff;
const MINI_SECTOR = 64;
const DIR_ENTRY = 128;
/** FAT sectors kept in memory at a time (each covers 128 (v3) or 1024 (v4) sectors) */
const FAT_CACHE = 256;

export type CfbEntryType = 'storage' | 'stream' | 'root';

export interface CfbEntry {
  /** '/'-separated path below the root, as stored (e.g. "ImageInfo/ImageWidth") */
  path: string;
  type: CfbEntryType;
  /** first sector (or mini sector) of a stream */
  start: number;
  /** bytes of a stream */
  size: number;
}

/** True when the first bytes are an OLE compound file's signature. */
export function isCompoundFile(head: Uint8Array): boolean {
  return head.length >= 8 && Buffer.from(head.buffer, head.byteOffset, 8).equals(SIGNATURE);
}

export class CompoundFile {
  readonly #fh: fs.promises.FileHandle;
  readonly #name: string;
  readonly #size: number;
  readonly #ssz: number;
  readonly #sectors: number;
  readonly #cutoff: number;
  #difat: Uint32Array = new Uint32Array(0);
  #fat = new Map<number, Uint32Array>();
  #entries = new Map<string, CfbEntry>();
  #miniFat: Uint32Array | null = null;
  #miniChain: Uint32Array | null = null;
  #root: CfbEntry | null = null;
  #chainOf: { start: number; chain: Uint32Array } | null = null;
  #miniFatAt = { start: ENDOFCHAIN, count: 0 };

  private constructor(fh: fs.promises.FileHandle, name: string, size: number, ssz: number, cutoff: number) {
    this.#fh = fh;
    this.#name = name;
    this.#size = size;
    this.#ssz = ssz;
    this.#cutoff = cutoff;
    // sector n starts at byte (n + 1) * ssz; the last one may be short
    this.#sectors = Math.max(0, Math.ceil(size / ssz) - 1);
  }

  /** Open `path` (named `name` in messages) and read its header, FAT locations and directory. */
  static async open(path: string, name: string, limits: Limits = DEFAULT_LIMITS): Promise<CompoundFile> {
    const st = await fs.promises.stat(path);
    const fh = await fs.promises.open(path, 'r');
    try {
      const head = Buffer.alloc(512);
      const { bytesRead } = await fh.read(head, 0, 512, 0);
      if (bytesRead < 512 || !isCompoundFile(head)) throw invalidInput(`${name} is not a Zeiss/OLE compound file (its first bytes are not the OLE signature); the file is damaged or of another type.`);
      const major = head.readUInt16LE(26);
      const shift = head.readUInt16LE(30);
      if (!((major === 3 && shift === 9) || (major === 4 && shift === 12)) || head.readUInt16LE(32) !== 6) {
        throw invalidInput(`${name}: its compound-file header is damaged (version ${major}, sector size 2^${shift}).`);
      }
      const cutoff = head.readUInt32LE(56);
      if (cutoff !== 4096) throw invalidInput(`${name}: its compound-file header is damaged (mini stream cutoff ${cutoff}, not 4096).`);
      const cf = new CompoundFile(fh, name, st.size, 1 << shift, cutoff);
      await cf.#readDifat(head, limits);
      await cf.#readDirectory(head.readUInt32LE(48), limits);
      cf.#miniFatAt = { start: head.readUInt32LE(60), count: head.readUInt32LE(64) };
      return cf;
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** The entry at `path` ('/'-separated, case-insensitive), or undefined. */
  entry(path: string): CfbEntry | undefined {
    return this.#entries.get(path.toLowerCase());
  }

  /** Read `dst.length` bytes of stream `e` from byte `pos` of the stream. */
  async read(e: CfbEntry, pos: number, dst: Uint8Array): Promise<void> {
    if (e.type !== 'stream' || pos < 0 || pos + dst.length > e.size) throw new RangeError(`read of ${dst.length} bytes at ${pos} outside ${e.path} (${e.size} bytes)`);
    if (dst.length === 0) return;
    if (e.size < this.#cutoff) return this.#readMini(e, pos, dst);
    const ssz = this.#ssz;
    const chain = await this.#streamChain(e);
    let k = Math.floor(pos / ssz);
    let inSector = pos % ssz;
    let done = 0;
    while (done < dst.length) {
      // a run of consecutive sectors is one read
      let run = 1;
      while (k + run < chain.length && chain[k + run] === chain[k]! + run && (run * ssz - inSector) < dst.length - done) run++;
      const n = Math.min(run * ssz - inSector, dst.length - done);
      await this.#readAt((chain[k]! + 1) * ssz + inSector, dst.subarray(done, done + n), e.path);
      done += n;
      k += run;
      inSector = 0;
    }
  }

  async close(): Promise<void> {
    await this.#fh.close().catch(() => {});
  }

  #damaged(what: string): Error {
    return invalidInput(`${this.#name} is damaged: ${what}. Copy the file again from the instrument's computer.`);
  }

  #truncated(what: string): Error {
    return invalidInput(`${this.#name} is truncated: ${what} lies beyond the end of the file (${this.#size.toLocaleString('en')} bytes). The file was probably cut short while copying; copy it again.`);
  }

  async #readAt(offset: number, dst: Uint8Array, what: string): Promise<void> {
    let off = 0;
    while (off < dst.length) {
      const { bytesRead } = await this.#fh.read(dst, off, dst.length - off, offset + off);
      if (bytesRead === 0) throw this.#truncated(`the data of ${what}`);
      off += bytesRead;
    }
  }

  #checkSector(s: number, what: string): void {
    if (s > MAXREGSECT) throw this.#damaged(`the sector chain of ${what} ends early`);
    if (s >= this.#sectors) throw this.#truncated(`sector ${s} of ${what}`);
  }

  async #readSector(s: number, what: string): Promise<Uint8Array> {
    this.#checkSector(s, what);
    const buf = new Uint8Array(this.#ssz);
    await this.#readAt((s + 1) * this.#ssz, buf, what);
    return buf;
  }

  /** The FAT sector locations: 109 in the header, the rest in the DIFAT sector chain. */
  async #readDifat(head: Buffer, limits: Limits): Promise<void> {
    const nFat = head.readUInt32LE(44);
    const nDifat = head.readUInt32LE(72);
    // a FAT sector covers ssz/4 sectors: more of them than the file has sectors is a lie
    if (nFat > this.#sectors || nDifat > this.#sectors) throw this.#damaged(`its header declares ${nFat} FAT sectors for a file of ${this.#sectors} sectors`);
    checkDecodeBudget(`${this.#name}: its sector table`, nFat * 4, limits);
    const difat = new Uint32Array(nFat);
    let n = 0;
    for (let i = 0; i < 109 && n < nFat; i++) difat[n++] = head.readUInt32LE(76 + 4 * i);
    let next = head.readUInt32LE(68);
    const per = this.#ssz / 4 - 1;
    const seen = new Set<number>();
    for (let d = 0; d < nDifat && n < nFat; d++) {
      if (seen.has(next)) throw this.#damaged('its DIFAT chain loops');
      seen.add(next);
      const sec = new DataView((await this.#readSector(next, 'the DIFAT')).buffer);
      for (let i = 0; i < per && n < nFat; i++) difat[n++] = sec.getUint32(4 * i, true);
      next = sec.getUint32(4 * per, true);
    }
    if (n < nFat) throw this.#damaged(`its header declares ${nFat} FAT sectors but lists only ${n}`);
    this.#difat = difat;
  }

  async #nextSector(s: number, what: string): Promise<number> {
    const per = this.#ssz / 4;
    const fi = Math.floor(s / per);
    let fat = this.#fat.get(fi);
    if (!fat) {
      if (fi >= this.#difat.length) throw this.#damaged(`sector ${s} of ${what} is outside its sector table`);
      const buf = await this.#readSector(this.#difat[fi]!, 'the sector table');
      fat = new Uint32Array(buf.buffer, 0, per);
      if (this.#fat.size >= FAT_CACHE) this.#fat.clear();
      this.#fat.set(fi, fat);
    }
    return fat[s % per]!;
  }

  /** The first `count` sectors of the chain from `start`. */
  async #chain(start: number, count: number, what: string, limits: Limits = DEFAULT_LIMITS): Promise<Uint32Array> {
    checkDecodeBudget(`${this.#name}: the sector list of ${what}`, count * 4, limits);
    const out = new Uint32Array(count);
    let s = start;
    for (let i = 0; i < count; i++) {
      this.#checkSector(s, what);
      out[i] = s;
      if (i + 1 < count) {
        // most lookups hit a cached FAT sector: no await for those
        const per = this.#ssz / 4;
        const fat = this.#fat.get(Math.floor(s / per));
        s = fat ? fat[s % per]! : await this.#nextSector(s, what);
      }
    }
    return out;
  }

  async #streamChain(e: CfbEntry): Promise<Uint32Array> {
    if (this.#chainOf?.start !== e.start) this.#chainOf = { start: e.start, chain: await this.#chain(e.start, Math.ceil(e.size / this.#ssz), e.path) };
    return this.#chainOf.chain;
  }

  /** A chain of unknown length (the directory), bounded by the file and the decode budget; loops are refused. */
  async #openChain(start: number, what: string, limits: Limits): Promise<number[]> {
    const max = Math.min(this.#sectors, Math.floor(limits.maxDecodeBytes / this.#ssz));
    const out: number[] = [];
    const seen = new Set<number>();
    for (let s = start; s !== ENDOFCHAIN; s = await this.#nextSector(s, what)) {
      this.#checkSector(s, what);
      if (seen.has(s)) throw this.#damaged(`the sector chain of ${what} loops`);
      if (out.length >= max) checkDecodeBudget(`${this.#name}: ${what}`, (out.length + 1) * this.#ssz, limits);
      seen.add(s);
      out.push(s);
    }
    return out;
  }

  async #readDirectory(start: number, limits: Limits): Promise<void> {
    const sectors = await this.#openChain(start, 'the directory', limits);
    if (sectors.length === 0) throw this.#damaged('its directory is empty');
    const bytes = new Uint8Array(sectors.length * this.#ssz);
    for (const [k, s] of sectors.entries()) await this.#readAt((s + 1) * this.#ssz, bytes.subarray(k * this.#ssz, (k + 1) * this.#ssz), 'the directory');
    const view = new DataView(bytes.buffer);
    const n = bytes.length / DIR_ENTRY;
    const raw = Array.from({ length: n }, (_, i) => {
      const o = i * DIR_ENTRY;
      const nameLen = Math.min(view.getUint16(o + 64, true), 64);
      const name = Buffer.from(bytes.buffer, o, Math.max(0, nameLen - 2)).toString('utf16le');
      const low = view.getUint32(o + 120, true);
      const high = this.#ssz === 512 ? 0 : view.getUint32(o + 124, true);
      return {
        name,
        type: view.getUint8(o + 66),
        left: view.getUint32(o + 68, true),
        right: view.getUint32(o + 72, true),
        child: view.getUint32(o + 76, true),
        start: view.getUint32(o + 116, true),
        size: high * 2 ** 32 + low,
      };
    });
    if (raw[0]?.type !== 5) throw this.#damaged('its directory has no root entry');
    this.#root = { path: '', type: 'root', start: raw[0].start, size: raw[0].size };
    // each storage's children are a tree of left/right siblings under its `child`; every entry is visited once
    const visited = new Uint8Array(n);
    visited[0] = 1;
    const stack: { id: number; parent: string }[] = [{ id: raw[0].child, parent: '' }];
    while (stack.length) {
      const { id, parent } = stack.pop()!;
      if (id === NOSTREAM || id === FREESECT) continue;
      if (id >= n || visited[id]) throw this.#damaged('its directory tree is broken');
      visited[id] = 1;
      const r = raw[id]!;
      stack.push({ id: r.left, parent }, { id: r.right, parent });
      if (r.type !== 1 && r.type !== 2) continue;
      const path = parent ? `${parent}/${r.name}` : r.name;
      this.#entries.set(path.toLowerCase(), { path, type: r.type === 1 ? 'storage' : 'stream', start: r.start, size: r.size });
      if (r.type === 1) stack.push({ id: r.child, parent: path });
    }
  }

  async #readMini(e: CfbEntry, pos: number, dst: Uint8Array): Promise<void> {
    const root = this.#root!;
    if (!this.#miniFat) {
      const { start, count } = this.#miniFatAt;
      if (count > this.#sectors) throw this.#damaged(`its header declares ${count} mini-FAT sectors for a file of ${this.#sectors} sectors`);
      const secs = await this.#chain(start, count, 'the mini-stream table');
      const mf = new Uint32Array(count * (this.#ssz / 4));
      for (const [k, s] of secs.entries()) await this.#readAt((s + 1) * this.#ssz, new Uint8Array(mf.buffer, k * this.#ssz, this.#ssz), 'the mini-stream table');
      if (root.size > this.#size) throw this.#truncated('the mini stream');
      this.#miniChain = await this.#chain(root.start, Math.ceil(root.size / this.#ssz), 'the mini stream');
      this.#miniFat = mf;
    }
    const mf = this.#miniFat;
    const chain = this.#miniChain!;
    let m = e.start;
    // skip to the mini sector holding `pos`
    for (let i = 0; i < Math.floor(pos / MINI_SECTOR); i++) m = this.#nextMini(m, mf, e.path);
    let inSector = pos % MINI_SECTOR;
    let done = 0;
    while (done < dst.length) {
      if (m > MAXREGSECT || m * MINI_SECTOR >= root.size) throw this.#damaged(`the data of ${e.path} ends early`);
      const at = m * MINI_SECTOR + inSector;
      const big = chain[Math.floor(at / this.#ssz)]!;
      const n = Math.min(MINI_SECTOR - inSector, dst.length - done);
      await this.#readAt((big + 1) * this.#ssz + (at % this.#ssz), dst.subarray(done, done + n), e.path);
      done += n;
      inSector = 0;
      if (done < dst.length) m = this.#nextMini(m, mf, e.path);
    }
  }

  #nextMini(m: number, mf: Uint32Array, what: string): number {
    if (m >= mf.length) throw this.#damaged(`the data of ${what} is outside its mini-stream table`);
    return mf[m]!;
  }
}
