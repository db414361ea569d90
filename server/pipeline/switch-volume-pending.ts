/**
 * The record of a volume switch under way (`projects/<id>/switching.json`, pipeline/switch-volume):
 * written before anything moves, removed when all has moved. Apart from the switch so that the
 * starters of jobs a switch would race (the Train page's label count, the Results statistics) can
 * check it without importing the switch (no import cycle).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PetromapError } from '@/lib/errors';
import type { Services } from '../services';

/** A switch from volume `from` to `to`: phase 'aside' sets aside what is left of `from`, 'restore' brings back `to`'s work. */
export interface Pending { from: string | null; to: string; phase: 'aside' | 'restore' }

export const pendingFile = (svc: Services, projectId: string) => path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), 'switching.json');
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The record's text checked: the record, or null when it is not one petromap wrote. */
function parsePending(text: string): Pending | null {
  try {
    const p = JSON.parse(text) as Pending;
    if (p && typeof p.to === 'string' && SAFE_ID.test(p.to) && (p.from === null || (typeof p.from === 'string' && SAFE_ID.test(p.from))) && (p.phase === 'aside' || p.phase === 'restore')) return p;
  } catch {
    /* not ours */
  }
  return null;
}

/** The project's record of a switch under way; null when there is none; refused in words when it cannot be read. */
export async function readPending(svc: Services, projectId: string): Promise<Pending | null> {
  const text = await readFile(pendingFile(svc, projectId), 'utf8').catch(() => null);
  if (text === null) return null;
  const p = parsePending(text);
  if (p) return p;
  throw new PetromapError('Internal', `The record of an unfinished volume switch (${svc.ws.rel(pendingFile(svc, projectId))}) cannot be read; nothing was moved. Check the project's switched-<volume> folders, then delete that file.`);
}

/**
 * Whether a switch of the project is under way or waits to be finished (a record that can be read:
 * one that cannot moves nothing, so it holds nothing up). A job that writes what a switch moves is
 * not started then: the page asks again once the switch is finished (on opening the project or the
 * page's next state query).
 */
export function switchPending(svc: Services, projectId: string): boolean {
  let text: string;
  try {
    text = readFileSync(/*turbopackIgnore: true*/ pendingFile(svc, projectId), 'utf8');
  } catch {
    return false;
  }
  return parsePending(text) !== null;
}
