/**
 * Opened volume stores and mineral maps, cached by dataset id (reopened after a delete).
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { VolumeStore } from '@/lib/volume/store';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { brickReader } from '@/lib/volume/zarr/brick-reader-node';
import { loadMineralMap } from '@/lib/eds/store-node';
import type { MineralMap } from '@/lib/eds/types';
import { notFound } from '@/lib/errors';
import type { Services } from '../services';

const g = globalThis as unknown as { __petromapStores?: Map<string, Promise<VolumeStore>>; __petromapMaps?: Map<string, Promise<MineralMap>> };
const stores = (g.__petromapStores ??= new Map());
const maps = (g.__petromapMaps ??= new Map());

export function volumeStore(svc: Services, datasetId: string): Promise<VolumeStore> {
  const d = svc.repo.dataset(datasetId);
  if (!d || d.kind !== 'volume' || d.status !== 'ready') return Promise.reject(notFound(`There is no volume dataset ${datasetId}.`));
  const key = `${datasetId}:${d.relPath}`;
  let p = stores.get(key);
  if (!p) {
    // decoded chunks stay in memory (LRU, 256 MB per volume): slices through the same chunks,
    // the three orthogonal views and the histogram read them once; requests overlap and keep what
    // they read, so every read gets a new array
    p = openVolume(svc.ws.abs(d.relPath)).then((s) => brickReader(s, { maxBytes: 256 * 2 ** 20, concurrent: true }));
    p.catch(() => stores.delete(key));
    stores.set(key, p);
  }
  return p;
}

/** A store at a path inside the workspace (results of a project: labels, probabilities...). */
export function storeAt(svc: Services, rel: string): Promise<VolumeStore> {
  const key = `path:${rel}`;
  let p = stores.get(key);
  if (!p) {
    p = openVolume(svc.ws.abs(rel));
    p.catch(() => stores.delete(key));
    stores.set(key, p);
  }
  return p;
}

export function forgetStore(rel: string) {
  stores.delete(`path:${rel}`);
}

export function mineralMap(svc: Services, datasetId: string): Promise<MineralMap> {
  const d = svc.repo.dataset(datasetId);
  if (!d || d.kind !== 'eds' || d.status !== 'ready') return Promise.reject(notFound(`There is no EDS map dataset ${datasetId}.`));
  let p = maps.get(datasetId);
  if (!p) {
    p = loadMineralMap(svc.ws.abs(d.relPath));
    p.catch(() => maps.delete(datasetId));
    maps.set(datasetId, p);
  }
  return p;
}

/**
 * Swap a job's finished work folder in for the folder readers use (both workspace-relative): the
 * old one is renamed aside, the new one renamed in, the old one removed, so readers see the old
 * result or the new one, never half. Returns `resultAbs` (a path inside the work folder) as a
 * workspace-relative path inside the final folder, with its cached store forgotten.
 */
export async function swapInWorkFolder(svc: Services, workRel: string, finalRel: string, jobId: string, resultAbs: string): Promise<string> {
  const resultRel = path.join(finalRel, path.relative(svc.ws.abs(workRel), resultAbs));
  const old = `${svc.ws.abs(finalRel)}.old-${jobId}`;
  forgetStore(resultRel);
  if (existsSync(svc.ws.abs(finalRel))) await rename(svc.ws.abs(finalRel), old);
  await rename(svc.ws.abs(workRel), svc.ws.abs(finalRel));
  await rm(old, { recursive: true, force: true });
  forgetStore(resultRel);
  return resultRel;
}
