/**
 * What a deleted XRM volume leaves in its project, removed with it (the Data step's delete; the
 * map's counterpart is correlate.ts forgetMap): the registrations made on it (either face) with
 * their overlay files, the surface slabs found in it, the painted strokes and the lithology map
 * of it, the whole-volume prediction of it with its statistics and 3D-view file, the Multi-scale
 * composite model computed from it (as the large scan or as an interior scan it measured), its
 * place as an interior scan, and the user's pick of it. Each is recognised by the volume's id it
 * records, or by the petromap-written file name that carries the id, so nothing of another volume
 * goes, and nothing petromap did not write. A composite model that did not use the volume stays.
 * What a switch to another volume set aside for this one (switch-volume.ts) goes with it, but for
 * its model when the project has none: that becomes the project's model.
 *
 * Kept on purpose: the trained model in use (a classifier of this sample's minerals that can
 * predict another scan of it) and the EDS maps with their class table.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Services } from '../services';
import { readSlabRecord, slabPaths } from '../jobs/tasks-correlate';
import { forgetStore } from '../storage/open-stores';
import { overlayFile, registrationKey } from './correlate';
import { isInterior, removeInterior, removeResultOf, runDir } from './multiscale';
import { FACE_NAMES } from './project-inputs';
import { overviewFile, STATS_KEY } from './results-stats';
import { keepAsideModel, switchedDir } from './switch-volume';
import { predictionDir, predictionRel } from './train-model';

/** Remove what belonged to volume `volumeId` in project `projectId`; returns the state keys and files it removed (workspace-relative). */
export async function forgetVolume(svc: Services, projectId: string, volumeId: string): Promise<{ keys: string[]; files: string[] }> {
  const keys: string[] = [];
  const files: string[] = [];
  const dir = svc.ws.projectDir(projectId);
  const remove = async (abs: string) => {
    if (!existsSync(/*turbopackIgnore: true*/ abs)) return;
    await rm(abs, { recursive: true, force: true });
    files.push(svc.ws.rel(abs));
  };
  const drop = (key: Parameters<Services['repo']['deleteArtifact']>[1]) => {
    svc.repo.deleteArtifact(projectId, key);
    keys.push(key);
  };

  // Correlate: each face's registration on this volume, its overlay, and the face's slab of this volume
  for (const face of FACE_NAMES) {
    const key = registrationKey(face);
    if (svc.repo.artifact(projectId, key)?.volumeId === volumeId) {
      drop(key);
      await remove(overlayFile(svc, projectId, face));
    }
    const slab = await readSlabRecord(dir, face).catch(() => undefined);
    if (slab?.volumeId === volumeId) {
      const p = slabPaths(dir, face);
      await remove(p.data);
      await remove(p.json);
    }
  }
  const counts = svc.repo.artifact(projectId, 'labelCounts');
  if (counts && counts.key.includes(JSON.stringify(volumeId))) drop('labelCounts');

  // Train / Results: the whole-volume prediction of this volume, its statistics and 3D-view labels
  const run = svc.repo.artifact(projectId, 'predictionRun');
  if (run?.volumeId === volumeId) {
    for (const k of ['prediction', STATS_KEY, 'resultsStatsJob', 'predictionRun'] as const) if (svc.repo.artifact(projectId, k)) drop(k);
    for (const w of ['labels', 'probabilities', 'uncertainty'] as const) forgetStore(predictionRel(svc, projectId, w));
    await remove(predictionDir(svc, projectId));
    await remove(overviewFile(svc, projectId));
  }

  // Annotate: the strokes painted on this volume and the lithology map predicted from them (petromap's names carry the volume's id)
  const ann = svc.repo.artifact(projectId, 'annotations');
  if (ann?.volumeId === volumeId) {
    drop('annotations');
    forgetStore(ann.relPath);
  }
  const lith = svc.repo.artifact(projectId, 'lithologyPrediction');
  if (lith?.volumeId === volumeId) {
    drop('lithologyPrediction');
    forgetStore(lith.relPath);
  }
  const proposals = svc.repo.artifact(projectId, 'scanProposals');
  if (proposals && (proposals.version.startsWith(`strokes ${volumeId} `) || (proposals.source === 'prediction' && lith?.volumeId === volumeId))) drop('scanProposals');
  await remove(path.join(/*turbopackIgnore: true*/ dir, `annotations-${volumeId}.ome.zarr`));
  await remove(path.join(/*turbopackIgnore: true*/ dir, `lithology-${volumeId}`));

  // Multi-scale: the composite model computed from this volume (as its large scan or one of its
  // interiors), then the volume as a placed interior scan (its views, pore strokes and trained pores)
  if (await removeResultOf(svc, projectId, volumeId)) {
    keys.push('multiscale result');
    files.push(svc.ws.rel(runDir(svc, projectId)));
  }
  if (await isInterior(svc, projectId, volumeId)) {
    await removeInterior(svc, projectId, volumeId);
    keys.push('multiscale interior');
  }

  // what a switch to another volume set aside for this one (switch-volume.ts); its model first
  // becomes the project's model when there is none (kept, as the dialog says)
  await keepAsideModel(svc, projectId, volumeId);
  await remove(switchedDir(svc, projectId, volumeId));

  const picked = svc.repo.artifact(projectId, 'inputs');
  if (picked?.volumeId === volumeId) svc.repo.setArtifact(projectId, 'inputs', { ...picked, volumeId: undefined });
  return { keys, files };
}
