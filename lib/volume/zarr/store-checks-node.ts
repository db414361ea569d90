/**
 * What openVolume checks of a store's own metadata before anything is read or allocated (a store
 * copied in from elsewhere or damaged on disk is not trusted): the petromap attributes (levels,
 * chunk, compression) and each level's zarr.json against what createVolume writes (one channel per
 * chunk, the level's chunk = the store's chunk cut to the level, the codecs of its compression, no
 * sharding, the default '/' chunk keys), and the chunk's bytes against the memory budget: a level
 * declaring 4096³ chunks would otherwise allocate on its first read.
 */
import type * as zarr from 'zarrita';
import { invalidInput } from '../../errors';
import { formatBytes, LIMIT_ENV, type Limits } from '../../limits';
import { bytesPerVoxel, type Shape3, type VolumeMeta } from '../types';
import type { AtomicFileSystemStore } from './atomic-file-system-store-node';
import { chunkCap } from './capped-codecs';
import { codecsFor, type PetromapStoreAttrs } from './store-attrs';

/** More pyramid levels than any shape petromap stores can have (halving 2^53 voxels ends sooner). */
const MAX_LEVELS = 64;

const isCount = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 1;

/** The petromap attributes openVolume relies on beyond `meta` (checkMeta): levels, chunk, compression. */
export function checkStoreAttrs(path: string, attrs: PetromapStoreAttrs): void {
  const damaged = (what: string) => invalidInput(`Volume "${path}" is damaged: ${what}. Re-import the scan.`);
  if (!Array.isArray(attrs.chunk) || attrs.chunk.length !== 3 || !attrs.chunk.every(isCount)) throw damaged(`its chunk size ${JSON.stringify(attrs.chunk)?.slice(0, 60)} is not three whole numbers ≥ 1`);
  if (!['zstd', 'gzip', 'none'].includes(attrs.compression)) throw damaged(`its compression "${String(attrs.compression).slice(0, 40)}" is not one petromap writes (zstd, gzip or none)`);
  if (!isCount(attrs.levels) || attrs.levels > MAX_LEVELS) throw damaged(`it declares ${String(JSON.stringify(attrs.levels)).slice(0, 40)} pyramid levels (1 to ${MAX_LEVELS})`);
}

interface LevelJson {
  shape?: unknown;
  chunk_grid?: { name?: unknown; configuration?: { chunk_shape?: unknown } };
  chunk_key_encoding?: { name?: unknown; configuration?: { separator?: unknown } };
  codecs?: Array<{ name?: unknown; configuration?: { endian?: unknown } }>;
}

/**
 * Level `k`'s zarr.json against the store's attributes and the memory budget, read before zarrita
 * opens the level. Returns the most bytes one of its chunk files may hold (chunkCap's bound: a
 * compressor's output can be a little larger than its input).
 */
export async function checkLevelMeta(path: string, fsStore: AtomicFileSystemStore, k: number, attrs: PetromapStoreAttrs, limits: Limits): Promise<number> {
  const damaged = (what: string) => invalidInput(`Volume "${path}" is damaged: pyramid level ${k} ${what}. Re-import the scan.`);
  const raw = await fsStore.get(`/${k}/zarr.json` as zarr.AbsolutePath);
  if (!raw) throw damaged('is missing');
  let j: LevelJson;
  try {
    j = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')) as LevelJson;
  } catch {
    throw damaged('has unreadable metadata (zarr.json)');
  }
  const meta: VolumeMeta = attrs.meta;
  const shape = j?.shape;
  const chunk = j?.chunk_grid?.configuration?.chunk_shape;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every(isCount) || j.chunk_grid?.name !== 'regular' || !Array.isArray(chunk) || chunk.length !== 4 || !chunk.every(isCount)) {
    throw damaged('has no regular grid of chunks (c, z, y, x)');
  }
  const levelChunk = (chunk as number[]).slice(1) as Shape3;
  const bytes = levelChunk.reduce((a, b) => a * b, 1) * bytesPerVoxel(meta.dtype);
  // the budget first: the declared size is what a read would allocate, whatever else is wrong
  if (chunk[0] !== 1 || bytes > limits.maxDecodeBytes) {
    const c = chunk as number[];
    throw invalidInput(
      `Volume "${path}": pyramid level ${k} declares chunks of ${c.slice(1).join(' x ')} voxels${c[0] !== 1 ? ` times ${c[0]} channels` : ''} (${meta.dtype}, ${formatBytes(bytes * c[0]!)} each), more than the ${formatBytes(limits.maxDecodeBytes)} one read may hold (${LIMIT_ENV.maxDecodeBytes.name}); petromap writes 64 x 64 x 64 chunks, so this volume was not written by petromap or is damaged. Re-import the scan.`,
    );
  }
  const want = (shape as number[]).slice(1).map((n, a) => Math.min(n, attrs.chunk[a]!));
  if (levelChunk.some((n, a) => n !== want[a])) throw damaged(`has chunks of ${levelChunk.join(' x ')} voxels where the volume's chunk size gives ${want.join(' x ')}`);
  const enc = j.chunk_key_encoding;
  if (enc?.name !== 'default' || (enc.configuration?.separator ?? '/') !== '/') throw damaged('names its chunk files in a way petromap does not write');
  const names = Array.isArray(j.codecs) ? j.codecs.map((c) => c?.name) : [];
  const expected = codecsFor(attrs.compression).map((c) => c.name);
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) {
    throw damaged(`is stored with the codecs ${shown(names)}, not the ${shown(expected)} of its ${attrs.compression} compression (petromap volumes are not sharded)`);
  }
  const endian = j.codecs![0]!.configuration?.endian;
  if (endian !== undefined && endian !== 'little') throw damaged(`stores its voxels ${String(endian).slice(0, 20)}-endian; petromap writes little-endian`);
  return chunkCap({ shape: levelChunk, dataType: meta.dtype })?.cap ?? bytes;
}

const shown = (names: unknown[]) => `[${names.map((n) => String(n).slice(0, 30)).slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}]`;
