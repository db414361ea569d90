/**
 * A project's inputs for the pipeline: its volume and EDS map (the first ready ones unless the
 * user picked others), the default class list and the mineral → class mapping.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SANDSTONE_CLASSES, defaultClassFor } from '@/lib/classes';
import type { MineralPhase } from '@/lib/eds/types';
import { unprocessable } from '@/lib/errors';
import type { Services } from '../services';

export interface ClassDef {
  code: number;
  name: string;
  color: [number, number, number];
}

export function projectClasses(svc: Services, projectId: string): ClassDef[] {
  const saved = svc.repo.artifact(projectId, 'classes');
  if (saved?.length) return saved;
  return SANDSTONE_CLASSES.filter((c) => c.code > 0).map((c) => ({ code: c.code, name: c.name, color: [...c.color] as [number, number, number] }));
}

/** Guess a mineral's class from its name (lib/classes: pore, quartz, feldspar, clay, pyrite); null = drop. */
export { defaultClassFor };

export interface ClassMapEntry {
  phaseId: number;
  name: string;
  color: [number, number, number];
  classCode: number | null;
}

/**
 * Each mineral of a legend with its class. The user's choices are kept by the top map's phase ids;
 * the bottom face's map (issue 15 §1) has phase ids of its own, so its minerals take the class
 * chosen for the top map's mineral of the same name, and their default class otherwise.
 */
export function projectClassMap(svc: Services, projectId: string, legend: MineralPhase[], face: Face = 'top'): ClassMapEntry[] {
  const saved = svc.repo.artifact(projectId, 'classMap') ?? {};
  if (face === 'top') return legend.map((p) => ({ phaseId: p.id, name: p.name, color: p.color, classCode: p.id in saved ? saved[p.id] : defaultClassFor(p.name) }));
  const top = projectDatasets(svc, projectId).eds;
  const topLegend = (top?.info as { legend?: MineralPhase[] } | null)?.legend ?? [];
  const byName = new Map(projectClassMap(svc, projectId, topLegend).map((e) => [e.name.trim().toLowerCase(), e.classCode]));
  return legend.map((p) => {
    const k = p.name.trim().toLowerCase();
    return { phaseId: p.id, name: p.name, color: p.color, classCode: byName.has(k) ? byName.get(k)! : defaultClassFor(p.name) };
  });
}

/**
 * The project's volume, the EDS map of its top face (`eds`) and, when one was added, the EDS map
 * of its bottom face (`bottomEds`, issue 15 §1: the newest ready map marked 'bottom' whose
 * registration was not refused, artifact 'refusedMaps'). Maps
 * imported before faces existed have no face: they are top maps, so a one-map project reads as it
 * always did.
 */
export function projectDatasets(svc: Services, projectId: string) {
  if (!svc.repo.project(projectId)) throw unprocessable(`There is no project ${projectId}.`);
  const ds = svc.repo.listDatasets(projectId).filter((d) => d.status === 'ready');
  const picked = svc.repo.artifact(projectId, 'inputs') ?? {};
  const volume = ds.find((d) => d.id === picked.volumeId) ?? ds.find((d) => d.kind === 'volume');
  const eds = ds.find((d) => d.id === picked.edsId && d.face !== 'bottom') ?? ds.find((d) => d.kind === 'eds' && d.face !== 'bottom');
  // a map refused as the bottom face (its registration found it is not of that face) is not the bottom map: the one before it stays
  const refused = svc.repo.artifact(projectId, 'refusedMaps') ?? {};
  const bottomEds = ds.filter((d) => d.kind === 'eds' && d.face === 'bottom' && !refused[d.id]).at(-1);
  return { volume, eds, bottomEds };
}

export type Face = 'top' | 'bottom';
export const FACE_NAMES: Face[] = ['top', 'bottom'];

/** The project's volume and the EDS map of one face. */
export function faceDatasets(svc: Services, projectId: string, face: Face) {
  const d = projectDatasets(svc, projectId);
  return { volume: d.volume, eds: face === 'bottom' ? d.bottomEds : d.eds };
}

/** Ground truth of a synthetic project (the demo), when present. */
export function projectTruth(svc: Services, projectId: string): { edsToVoxel: number[]; mineralToClass?: Record<string, number>; bottom?: { edsToVoxel: number[] } } | undefined {
  const f = path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), 'truth.json');
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8'));
  } catch {
    return undefined;
  }
}
