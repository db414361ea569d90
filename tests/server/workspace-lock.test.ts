/**
 * One server per workspace (issue 12, item 13): a second process on the same workspace is refused
 * with a message naming the holder; a lock left by a process that died is taken over; a lock is
 * removed when its process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, acquireWorkspaceLock, isWorkspaceLocked, type LockInfo } from '@/server/db/lock';

const root = mkdtempSync(path.join(os.tmpdir(), 'petromap-lock-'));
const LOCK_TS = pathToFileURL(path.resolve('server/db/lock.ts')).href;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the module `code` in another Node process (through tsx, with `env` or this one's); resolves with its first stdout line. */
function firstLine(code: string, env?: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '', err = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) resolve({ child, line: out.trim() });
    });
    child.stderr!.on('data', (d) => (err += String(d)));
    child.on('exit', (c) => (out.includes('\n') ? undefined : reject(new Error(`child exited ${c}: ${err}`))));
  });
}

/** Another Node process that takes the lock of `dir` and holds it until killed; resolves with its stdout line. */
function holder(dir: string, hold = true): Promise<{ child: ChildProcess; line: string }> {
  const code = `
    const { acquireWorkspaceLock } = await import(${JSON.stringify(LOCK_TS)});
    try {
      acquireWorkspaceLock(${JSON.stringify(dir)});
      console.log('locked');
    } catch (err) {
      console.log('refused: ' + err.message);
      process.exit(3);
    }
    ${hold ? 'setInterval(() => {}, 1000);' : ''}`;
  return firstLine(code);
}
/** A process that opens the workspace as the server does (services(): lock, database, interrupted jobs). */
function server(dir: string, script: string): Promise<{ child: ChildProcess; line: string }> {
  const code = `
    const { services } = await import(${JSON.stringify(pathToFileURL(path.resolve('server/services.ts')).href)});
    let svc;
    try {
      svc = services();
    } catch (err) {
      console.log('refused: ' + err.message);
      process.exit(3);
    }
    ${script}
    setInterval(() => {}, 1000);`;
  return firstLine(code, { ...process.env, PETROMAP_DATA: dir, PETROMAP_NO_DEMO: '1' });
}
const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.on('exit', () => r())));
const lockOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as LockInfo;

describe('workspace lock', () => {
  it('refuses a second server on the same workspace, naming the one that holds it', async () => {
    const dir = mkdtempSync(path.join(root, 'ws-'));
    const { child, line } = await holder(dir);
    expect(line).toBe('locked');
    expect(lockOf(dir)).toMatchObject({ pid: child.pid, host: os.hostname(), dataDir: dir });
    let err: unknown;
    try {
      acquireWorkspaceLock(dir);
    } catch (e) {
      err = e;
    }
    expect(isWorkspaceLocked(err)).toBe(true);
    expect((err as Error).message).toContain(`already used by another petromap server (process ${child.pid}`);
    expect((err as Error).message).toMatch(/PETROMAP_DATA/);
    // and a third process too
    const third = await holder(dir).catch((e: Error) => ({ child: null, line: e.message }));
    expect(third.line).toMatch(/^refused: .*already used by another petromap server/);
    // the holder's lock is untouched
    expect(lockOf(dir).pid).toBe(child.pid);
  });

  it('a second server process on the workspace is refused before it marks the first one\'s jobs as interrupted', async () => {
    const dir = mkdtempSync(path.join(root, 'ws-'));
    const first = await server(dir, `
      const p = svc.repo.createProject('Busy', 'mineralogy');
      svc.jobs.start('long', p.id, {}, () => new Promise(() => {}));
      await new Promise((r) => setTimeout(r, 100));
      console.log('running ' + svc.repo.listJobs()[0].state);`);
    expect(first.line).toBe('running running');
    const second = await server(dir, `console.log('started');`);
    expect(second.line).toMatch(/^refused: The workspace .* is already used by another petromap server \(process \d+/);
    await exited(second.child);
    expect(second.child.exitCode).toBe(3);
    const check = await server(mkdtempSync(path.join(root, 'ws-')), `
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(${JSON.stringify(path.join(dir, 'petromap.db'))}, { readonly: true });
      console.log(db.prepare('SELECT state FROM jobs').all().map((r) => r.state).join(','));`);
    expect(check.line).toBe('running');
  });

  it('takes over the lock of a server that died (SIGKILL: no clean-up)', async () => {
    const dir = mkdtempSync(path.join(root, 'ws-'));
    const { child } = await holder(dir);
    const deadPid = child.pid!;
    child.kill('SIGKILL');
    await exited(child);
    expect(lockOf(dir).pid).toBe(deadPid); // left behind
    const lock = acquireWorkspaceLock(dir);
    expect(lock.tookOver?.pid).toBe(deadPid);
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, host: os.hostname() });
    // this process now holds it: a child is refused
    const other = await holder(dir).catch((e: Error) => ({ child: null, line: e.message }));
    expect(other.line).toMatch(new RegExp(`refused: .*process ${process.pid}`));
    // taking it again in the same process is fine (dev reloads), releasing removes the file
    expect(acquireWorkspaceLock(dir)).toBe(lock);
    lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over a lock whose pid now belongs to another process (a reused pid)', async () => {
    const dir = mkdtempSync(path.join(root, 'ws-'));
    const { child } = await holder(dir, true);
    const info = lockOf(dir);
    child.kill('SIGKILL');
    await exited(child);
    // same pid, but a process started at another time: write the lock of a long-gone server with our parent's pid
    const ppid = process.ppid;
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ ...info, pid: ppid, pidStart: info.pidStart === null ? null : '1' }));
    if (info.pidStart === null) return; // no /proc here: cannot tell a reused pid
    const lock = acquireWorkspaceLock(dir);
    expect(lock.tookOver?.pid).toBe(ppid);
    lock.release();
  });

  it('removes its lock when the process exits normally', async () => {
    const dir = mkdtempSync(path.join(root, 'ws-'));
    const { child, line } = await holder(dir, false);
    expect(line).toBe('locked');
    await exited(child);
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('does not take over a lock of another machine, nor one it cannot read', async () => {
    const dir = mkdtempSync(path.join(root, 'ws-'));
    const foreign: LockInfo = { pid: 1, host: 'other-lab-pc', pidStart: null, startedAt: new Date().toISOString(), dataDir: dir };
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(foreign));
    expect(() => acquireWorkspaceLock(dir)).toThrow(/process 1 on the machine "other-lab-pc".*delete .*petromap\.lock/);
    writeFileSync(path.join(dir, LOCK_FILE), 'garbage');
    expect(() => acquireWorkspaceLock(dir)).toThrow(/cannot read/);
  });
});
