/**
 * One server per workspace (issue 12, item 13). A second server on the same PETROMAP_DATA would
 * mark the first one's running jobs as interrupted and sweep its uploads, so start-up takes
 * `petromap.lock` in the workspace: a JSON file with the pid, host and start time of the server
 * that holds it. A second server on the same workspace refuses to start (PetromapError 'Conflict'
 * with a message that says which process holds it and what to do). A lock left by a process that
 * is gone (same host, pid not running, or running but started at another time, i.e. a reused pid)
 * is taken over. The lock is removed when the process exits.
 *
 * The file is created complete and atomically (written under a temp name, then hard-linked to
 * petromap.lock, which fails if it exists), so a reader never sees half a lock.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PetromapError } from '../../lib/errors';

export const LOCK_FILE = 'petromap.lock';

export interface LockInfo {
  pid: number;
  host: string;
  /** process start time as the kernel counts it (Linux /proc/<pid>/stat), to tell a reused pid */
  pidStart: string | null;
  startedAt: string;
  dataDir: string;
}

export interface WorkspaceLock {
  file: string;
  info: LockInfo;
  /** the stale lock that was taken over, if any */
  tookOver: LockInfo | null;
  release: () => void;
}

/** Start time of a process (field 22 of /proc/<pid>/stat), or null where there is no /proc. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is the process that wrote `info` still running? (Only answerable on this host.) */
export function lockHolderAlive(info: LockInfo): boolean {
  if (info.host !== os.hostname()) return true; // cannot tell: assume it is
  // this very process (a reloaded module) or an earlier one with the same pid: not another server
  if (info.pid === process.pid) return false;
  if (!pidAlive(info.pid)) return false;
  const now = processStart(info.pid);
  return !(info.pidStart && now && now !== info.pidStart);
}

function readLock(file: string): LockInfo | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const j = JSON.parse(text) as LockInfo;
    if (typeof j.pid !== 'number' || typeof j.host !== 'string') return 'unreadable';
    return j;
  } catch {
    return 'unreadable';
  }
}

// on globalThis: Next's dev reloads evaluate this module again in the same process
const g = globalThis as unknown as { __petromapLocks?: Map<string, WorkspaceLock> };
const held = (g.__petromapLocks ??= new Map<string, WorkspaceLock>());

/**
 * Take the workspace lock of `dataDir` for this process (idempotent within the process), or throw
 * PetromapError('Conflict') naming the process that holds it.
 */
export function acquireWorkspaceLock(dataDir: string): WorkspaceLock {
  const root = path.resolve(dataDir);
  const mine = held.get(root);
  if (mine) return mine;
  const file = path.join(/*turbopackIgnore: true*/ root, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: os.hostname(), pidStart: processStart(process.pid), startedAt: new Date().toISOString(), dataDir: root };
  const tmp = `${file}.${process.pid}-${Date.now().toString(36)}`;
  writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n');
  let tookOver: LockInfo | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw err;
      }
      const cur = readLock(file);
      if (cur === null) continue; // removed meanwhile: try again
      if (cur === 'unreadable') {
        throw new PetromapError('Conflict', `The workspace ${root} has a lock file (${file}) that petromap cannot read. If no petromap server uses this workspace, delete that file and start again.`);
      }
      if (lockHolderAlive(cur)) {
        const where = cur.host === os.hostname() ? `process ${cur.pid}` : `process ${cur.pid} on the machine "${cur.host}"`;
        throw new PetromapError(
          'Conflict',
          `The workspace ${root} is already used by another petromap server (${where}, started ${cur.startedAt}). ` +
            'Stop that server first, or start this one on another workspace (PETROMAP_DATA=<folder>). ' +
            `If that server is not running any more, delete ${file} and start again.`,
          { details: { holder: cur } },
        );
      }
      // stale: move it aside (atomic), check that what was moved is the stale lock, and retry the link
      const aside = `${file}.stale-${process.pid}-${Date.now().toString(36)}`;
      try {
        renameSync(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = readLock(aside);
      if (moved && moved !== 'unreadable' && (moved.pid !== cur.pid || moved.startedAt !== cur.startedAt)) {
        // another server took it over between our read and our rename: put its lock back and refuse next round
        try {
          linkSync(aside, file);
        } catch {
          /* it is gone or replaced: the next round decides */
        }
      } else {
        tookOver = cur;
      }
      try {
        unlinkSync(aside);
      } catch {
        /* already gone */
      }
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
  const release = () => {
    if (held.get(root) !== lock) return;
    held.delete(root);
    process.removeListener('exit', release);
    const cur = readLock(file);
    if (cur && cur !== 'unreadable' && cur.pid === info.pid && cur.startedAt === info.startedAt) {
      try {
        unlinkSync(file);
      } catch {
        /* already gone */
      }
    }
  };
  const lock: WorkspaceLock = { file, info, tookOver, release };
  held.set(root, lock);
  process.on('exit', release);
  return lock;
}

export function isWorkspaceLocked(err: unknown): err is PetromapError {
  return err instanceof PetromapError && err._tag === 'Conflict' && !!err.details && 'holder' in err.details;
}

/**
 * Start-up: another server holds the workspace, so this one stops with that server's message.
 * (Here, not in instrumentation.ts: that file is also compiled for the Edge runtime, which has
 * no process.exit.)
 */
export function exitIfWorkspaceLocked(err: unknown): void {
  if (!isWorkspaceLocked(err)) return;
  console.error(`petromap: ${err.message}`);
  process.exit(1);
}
