/**
 * Test/bench helper: Debian's redis-server on a free loopback port, no persistence, stopped by
 * stop(). `REDIS_SERVER` is null when /usr/bin/redis-server is absent (tests skip then).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';

export const REDIS_SERVER: string | null = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : null;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });

export interface RedisProc {
  port: number;
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts redis-server (extra args e.g. ['--requirepass', 'x']); resolves once it accepts connections. */
export async function startRedis(port?: number, extra: string[] = []): Promise<RedisProc> {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (/usr/bin/redis-server)');
  const p = port ?? (await freePort());
  const proc = spawn(REDIS_SERVER, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  const t0 = Date.now();
  while (!(await canConnect(p))) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode})`);
    if (Date.now() - t0 > 10_000) throw new Error('redis-server did not start in 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  return { port: p, url: `redis://127.0.0.1:${p}`, proc, stop };
}
