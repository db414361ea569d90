/**
 * Opened volume stores and mineral maps, cached by dataset id (reopened after a delete).
 */
import type { VolumeStore } from '@/lib/volume/store';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { withChunkCache } from '@/lib/parallel/chunk-cache';
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
    // the three orthogonal views and the histogram read them once
    p = openVolume(svc.ws.abs(d.relPath)).then((s) => withChunkCache(s, s.chunk, 256 * 2 ** 20));
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
