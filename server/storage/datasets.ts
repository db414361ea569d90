/**
 * Turning an uploaded file into a dataset: import into the dataset's folder (the importers write
 * to a temp name and rename), then record it in SQLite. A failed import leaves no row and no
 * folder; what was stored before is untouched.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Unzip, UnzipInflate } from 'fflate';
import { invalidInput, isPetromapError, type StageOptions } from '@/lib/errors';
import { importVolume } from '@/lib/volume/import-node';
import { openVolume } from '@/lib/volume/zarr-store-node';
import type { VolumeMeta } from '@/lib/volume/types';
import { importMineralMap } from '@/lib/eds/import-node';
import { mineralAreaFractions, saveMineralMap } from '@/lib/eds/store-node';
import type { MineralMap } from '@/lib/eds/types';
import { unclassifiedFraction } from '@/lib/eds/types';
import { newId, type DatasetRecord, type Repo } from '../db/repo';
import type { EdsInfoOut, VolumeInfoOut } from '../routers/datasets';
import type { Workspace } from './workspace';

/** Extract a zip file to a folder, streaming (entries never whole in memory at once beyond one chunk). */
export async function unzipToDir(zipFile: string, dir: string, name: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve, reject) => {
    const unzip = new Unzip((file) => {
      const rel = path.normalize(file.name).replace(/^(\.\.(\/|\\|$))+/, '');
      if (file.name.endsWith('/') || rel.startsWith('__MACOSX')) return;
      const dest = path.join(dir, rel);
      if (!dest.startsWith(dir + path.sep)) return;
      const chunks: Uint8Array[] = [];
      pending.push(
        new Promise<void>((res, rej) => {
          file.ondata = (err, data, final) => {
            if (err) return rej(invalidInput(`${name}: the zip entry ${file.name} is damaged (${err.message}).`));
            chunks.push(data);
            if (final) {
              mkdir(path.dirname(dest), { recursive: true })
                .then(() => writeFile(dest, Buffer.concat(chunks)))
                .then(() => (written.push(dest), res()), rej);
            }
          };
        }),
      );
      file.start();
    });
    unzip.register(UnzipInflate);
    const s = createReadStream(zipFile);
    s.on('data', (b) => {
      try {
        unzip.push(b as Buffer);
      } catch (e) {
        reject(invalidInput(`${name} is not a readable zip file (${(e as Error).message}).`));
      }
    });
    s.on('end', () => {
      try {
        unzip.push(new Uint8Array(0), true);
        resolve();
      } catch (e) {
        reject(invalidInput(`${name} is not a readable zip file (${(e as Error).message}).`));
      }
    });
    s.on('error', reject);
  });
  await Promise.all(pending);
  if (!written.length) throw invalidInput(`${name}: the zip file holds no files.`);
  return written;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

const VOLUME_EXT = /\.(tiff?|nrrd|nhdr|mha|mhd|nii|nii\.gz|raw)$/i;

/** What to hand the volume importer for an unpacked zip: one volume file, or a folder of slices. */
async function volumeSourceInZip(dir: string, name: string): Promise<string | string[]> {
  const files = (await listFiles(dir)).filter((f) => VOLUME_EXT.test(f));
  const headers = files.filter((f) => /\.(mhd|nhdr)$/i.test(f));
  if (headers.length === 1) return headers[0];
  const tiffs = files.filter((f) => /\.tiff?$/i.test(f)).sort();
  if (tiffs.length > 1) return tiffs;
  const vols = files.filter((f) => !/\.raw$/i.test(f));
  if (vols.length === 1) return vols[0];
  throw invalidInput(`${name}: could not tell which volume to import in the zip (found ${files.length ? files.map((f) => path.basename(f)).slice(0, 6).join(', ') : 'no volume files'}). Zip one volume file, an .mhd with its .raw, or a folder of TIFF slices.`);
}

export async function volumeInfo(storePath: string, meta?: VolumeMeta): Promise<VolumeInfoOut> {
  const store = await openVolume(storePath);
  return { meta: meta ?? store.meta, levels: store.levels };
}

export function edsInfo(map: MineralMap): EdsInfoOut {
  const fr = mineralAreaFractions(map);
  return {
    width: map.width,
    height: map.height,
    pixelSizeUm: map.pixelSizeUm,
    legend: map.legend.map((p) => ({ id: p.id, name: p.name, color: p.color, areaFraction: fr.get(p.id) ?? 0 })),
    unclassifiedFraction: unclassifiedFraction(map),
    companions: map.companions.map((c) => c.name),
  };
}

export interface ImportCtx {
  repo: Repo;
  ws: Workspace;
}

/** Import an uploaded volume file (tmpFile keeps the user's extension) as a new dataset. */
export async function importVolumeDataset(ctx: ImportCtx, projectId: string, name: string, tmpFile: string, opts: StageOptions & { spacingUm?: [number, number, number] } = {}): Promise<DatasetRecord> {
  const id = newId('d');
  const dir = ctx.ws.datasetDir(id);
  const store = path.join(dir, 'volume.ome.zarr');
  let unpack: string | undefined;
  try {
    let source: string | string[] = tmpFile;
    if (/\.zip$/i.test(tmpFile)) {
      unpack = ctx.ws.tmpPath('unzip');
      await unzipToDir(tmpFile, unpack, name);
      source = await volumeSourceInZip(unpack, name);
    }
    await mkdir(dir, { recursive: true });
    const meta = await importVolume(source, store, { displayName: name, spacingUm: opts.spacingUm, signal: opts.signal, onProgress: opts.onProgress });
    const info = await volumeInfo(store, meta);
    return ctx.repo.insertDataset({ id, projectId, name, kind: 'volume', status: 'ready', relPath: ctx.ws.rel(store), info });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  } finally {
    if (unpack) await rm(unpack, { recursive: true, force: true });
  }
}

async function edsInputFromDir(dir: string, name: string, pixelSizeUm?: number) {
  const files = await listFiles(dir);
  const tima = files.find((f) => path.basename(f).toLowerCase() === 'measurement.xml');
  if (tima) return { map: path.dirname(tima), pixelSizeUm };
  const legend = files.find((f) => /legend.*\.(csv|json)$/i.test(path.basename(f))) ?? files.find((f) => /\.(csv)$/i.test(f));
  const images = files.filter((f) => /\.(png|tiff?)$/i.test(f));
  const companionRe = /^(bse|se|[A-Z][a-z]?)(\b|_|-|\.)/;
  const bse = images.filter((f) => /^bse/i.test(path.basename(f)));
  const mapImg = images.find((f) => /(map|phase|mineral|label)/i.test(path.basename(f)) && !/^bse/i.test(path.basename(f))) ?? images.find((f) => !companionRe.test(path.basename(f)));
  if (!mapImg) throw invalidInput(`${name}: found no mineral map image (.png or .tif) in the zip. Include the map image and its legend (legend.csv: name,r,g,b).`);
  const infoJson = files.find((f) => /\.json$/i.test(f) && f !== legend);
  let px = pixelSizeUm;
  if (px === undefined && infoJson) {
    try {
      const j = JSON.parse(await (await import('node:fs/promises')).readFile(infoJson, 'utf8')) as Record<string, unknown>;
      const v = j.pixelSizeUm ?? j.pixel_size_um ?? (j.eds as Record<string, unknown> | undefined)?.pixelSizeUm ?? (j.params as Record<string, unknown> | undefined)?.edsPixelUm;
      if (typeof v === 'number' && v > 0) px = v;
    } catch {
      /* not ours */
    }
  }
  return { map: mapImg, legend, pixelSizeUm: px, companions: bse.map((p) => ({ name: 'BSE', path: p })) };
}

/** Import an uploaded EDS map (an image, or a .zip holding map + legend [+ BSE], or a TIMA export) as a new dataset. */
export async function importEdsDataset(ctx: ImportCtx, projectId: string, name: string, tmpFile: string, opts: StageOptions & { pixelSizeUm?: number } = {}): Promise<DatasetRecord> {
  const id = newId('d');
  const dir = ctx.ws.datasetDir(id);
  let unpack: string | undefined;
  try {
    let input: Parameters<typeof importMineralMap>[0];
    if (/\.zip$/i.test(tmpFile)) {
      unpack = ctx.ws.tmpPath('unzip');
      await unzipToDir(tmpFile, unpack, name);
      input = await edsInputFromDir(unpack, name, opts.pixelSizeUm);
    } else if (/\.(png|tiff?)$/i.test(tmpFile)) {
      throw invalidInput(`${name}: a mineral map image needs its legend. Upload a .zip holding the map image, its legend (legend.csv with name,r,g,b per mineral) and optionally bse.png, or a zipped TESCAN TIMA export.`);
    } else {
      throw invalidInput(`${name}: unknown EDS map format. Upload a .zip holding a map image + legend.csv, or a zipped TESCAN TIMA export folder.`);
    }
    const map = await importMineralMap(input, { signal: opts.signal, onProgress: opts.onProgress }).catch((err: unknown) => {
      if (isPetromapError(err) && /pixel size is unknown/.test(err.message)) {
        throw invalidInput(`${name}: the EDS pixel size is unknown (the image stores none). Add a small JSON file to the zip, e.g. info.json with {"pixelSizeUm": 2.5}, giving the pixel size in µm as the EDS software reports it.`);
      }
      throw err;
    });
    map.source ??= name;
    await saveMineralMap(path.join(dir, 'eds'), map);
    return ctx.repo.insertDataset({ id, projectId, name, kind: 'eds', status: 'ready', relPath: ctx.ws.rel(path.join(dir, 'eds')), info: edsInfo(map) });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (!isPetromapError(err) && (err as NodeJS.ErrnoException).code === 'ENOENT') throw invalidInput(`${name}: a file the import needed is missing (${(err as Error).message}).`);
    throw err;
  } finally {
    if (unpack) await rm(unpack, { recursive: true, force: true });
  }
}

export async function fileSize(p: string) {
  return (await stat(p)).size;
}
