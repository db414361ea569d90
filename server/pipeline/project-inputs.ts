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

export function projectClassMap(svc: Services, projectId: string, legend: MineralPhase[]): ClassMapEntry[] {
  const saved = svc.repo.artifact(projectId, 'classMap') ?? {};
  return legend.map((p) => ({ phaseId: p.id, name: p.name, color: p.color, classCode: p.id in saved ? saved[p.id] : defaultClassFor(p.name) }));
}

export function projectDatasets(svc: Services, projectId: string) {
  if (!svc.repo.project(projectId)) throw unprocessable(`There is no project ${projectId}.`);
  const ds = svc.repo.listDatasets(projectId).filter((d) => d.status === 'ready');
  const picked = svc.repo.artifact(projectId, 'inputs') ?? {};
  const volume = ds.find((d) => d.id === picked.volumeId) ?? ds.find((d) => d.kind === 'volume');
  const eds = ds.find((d) => d.id === picked.edsId) ?? ds.find((d) => d.kind === 'eds');
  return { volume, eds };
}

/** Ground truth of a synthetic project (the demo), when present. */
export function projectTruth(svc: Services, projectId: string): { edsToVoxel: number[]; mineralToClass?: Record<string, number> } | undefined {
  const f = path.join(svc.ws.projectDir(projectId), 'truth.json');
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8'));
  } catch {
    return undefined;
  }
}
