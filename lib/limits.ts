/**
 * Budgets that bound what one input may make petromap allocate or write (issue 12: hostile input
 * hurts nothing). Every declared size in a file header (image size, slice count, zip entry size,
 * legend rows, TIMA fields) is checked against these before anything is allocated.
 *
 * lib/ takes limits as arguments (default: DEFAULT_LIMITS); the server and the CLI read the
 * environment once with `limitsFromEnv` (the variables are listed in the README's Security section).
 */
import { statfs } from 'node:fs/promises';
import { PetromapError } from './errors';

export interface Limits {
  /** largest block one decode may hold in memory (a TIFF page, a PNG, one zip entry buffered): bytes */
  maxDecodeBytes: number;
  /** largest 2D mineral map, pixels (a mosaic's width x height) */
  maxMapPixels: number;
  /** bytes kept free on the workspace disk after a write */
  diskReserveBytes: number;
  /** zip uploads: entries, total unpacked bytes and unpacked/packed ratio of an entry */
  maxZipEntries: number;
  maxZipUnpackedBytes: number;
  maxZipRatio: number;
  /** legends: rows and bytes of one legend file, characters of one name */
  maxLegendRows: number;
  maxLegendBytes: number;
  maxNameChars: number;
  /** TESCAN TIMA: fields in one export and bytes of one XML file */
  maxTimaFields: number;
  maxXmlBytes: number;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxDecodeBytes: 512 * MiB,
  maxMapPixels: 100e6,
  diskReserveBytes: 1 * GiB,
  maxZipEntries: 20_000,
  maxZipUnpackedBytes: 256 * GiB,
  maxZipRatio: 200,
  maxLegendRows: 1000,
  maxLegendBytes: 1 * MiB,
  maxNameChars: 100,
  maxTimaFields: 100_000,
  maxXmlBytes: 64 * MiB,
});

/** Environment variable of each limit, and its unit (what the README documents). */
export const LIMIT_ENV: Record<keyof Limits, { name: string; unit: number; unitName: string }> = {
  maxDecodeBytes: { name: 'PETROMAP_MAX_DECODE_MB', unit: MiB, unitName: 'MiB' },
  maxMapPixels: { name: 'PETROMAP_MAX_MAP_MPX', unit: 1e6, unitName: 'megapixels' },
  diskReserveBytes: { name: 'PETROMAP_DISK_RESERVE_GB', unit: GiB, unitName: 'GiB' },
  maxZipEntries: { name: 'PETROMAP_MAX_ZIP_ENTRIES', unit: 1, unitName: 'entries' },
  maxZipUnpackedBytes: { name: 'PETROMAP_MAX_ZIP_GB', unit: GiB, unitName: 'GiB' },
  maxZipRatio: { name: 'PETROMAP_MAX_ZIP_RATIO', unit: 1, unitName: '' },
  maxLegendRows: { name: 'PETROMAP_MAX_LEGEND_ROWS', unit: 1, unitName: 'rows' },
  maxLegendBytes: { name: 'PETROMAP_MAX_LEGEND_KB', unit: 1024, unitName: 'KiB' },
  maxNameChars: { name: 'PETROMAP_MAX_NAME_CHARS', unit: 1, unitName: 'characters' },
  maxTimaFields: { name: 'PETROMAP_MAX_TIMA_FIELDS', unit: 1, unitName: 'fields' },
  maxXmlBytes: { name: 'PETROMAP_MAX_XML_MB', unit: MiB, unitName: 'MiB' },
};

/** Limits from environment variables (unset ones keep their default; bad ones are refused). */
export function limitsFromEnv(env: Record<string, string | undefined> = process.env): Limits {
  const out: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_ENV) as Array<keyof Limits>) {
    const { name, unit } = LIMIT_ENV[key];
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) throw new PetromapError('InvalidInput', `${name} must be a positive number, got "${raw.slice(0, 40)}".`);
    out[key] = Math.round(v * unit);
  }
  return out;
}

export function formatBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(0)} MiB`;
  return `${Math.ceil(n / 1024)} KiB`;
}

/**
 * Refuses a decode whose declared size exceeds the memory budget, before anything is allocated.
 * `what` names the input the way a mineralogist would ("slice 3 of scan.tif", "map.png").
 */
export function checkDecodeBudget(what: string, bytes: number, limits: Limits = DEFAULT_LIMITS): void {
  if (!Number.isFinite(bytes) || bytes < 0) throw new PetromapError('InvalidInput', `${what} declares an impossible size; the file is damaged.`);
  if (bytes > limits.maxDecodeBytes) {
    throw new PetromapError(
      'InvalidInput',
      `${what} would need ${formatBytes(bytes)} of memory to decode, more than the ${formatBytes(limits.maxDecodeBytes)} allowed (${LIMIT_ENV.maxDecodeBytes.name}); the file is damaged or needs to be split into tiles.`,
    );
  }
}

/** Free bytes on the disk that holds `dir` (Node's statfs). */
export async function freeDiskBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/**
 * Refuses a write of `bytes` into `dir` that would leave less than the disk reserve free
 * ("a volume too large for the disk"), before anything is written.
 */
export async function checkDiskBudget(what: string, dir: string, bytes: number, limits: Limits = DEFAULT_LIMITS): Promise<void> {
  const free = await freeDiskBytes(dir);
  if (bytes + limits.diskReserveBytes > free) {
    throw new PetromapError(
      'DiskFull',
      `${what} needs about ${formatBytes(bytes)} on disk but only ${formatBytes(free)} is free (keeping ${formatBytes(limits.diskReserveBytes)} spare); free some space or move the workspace (PETROMAP_DATA).`,
    );
  }
}

/**
 * Error text safe to show: first line only, absolute paths reduced to their last component,
 * at most `max` characters (a 50 MB legend line must not come back in an error).
 */
export function safeMessage(msg: string, max = 300): string {
  const line = (msg.split('\n')[0] ?? '').replace(/(?:[A-Za-z]:)?(?:\/[^\s/"'`:,;()]+){2,}\/?/g, (p) => {
    const parts = p.split('/').filter(Boolean);
    return parts[parts.length - 1] ?? p;
  });
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
