'use client';
/** Workers connected to the queue (PETROMAP_REDIS_URL), or a note that jobs run in this server. */
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/app/_trpc/client';
import { formatDate } from '../format';

const mvox = (v: number) => (v > 0 ? `${(v / 1e6).toFixed(2)} M voxels/s` : 'idle');

export function WorkerTable() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.workers.list.queryOptions(), refetchInterval: 3000 });
  if (q.isPending) return <p className="muted">Loading workers…</p>;
  if (q.error) return <div className="error">Could not list the workers: {q.error.message}</div>;
  const d = q.data;
  if (d.mode === 'embedded') {
    return (
      <p className="muted" data-testid="workers-embedded">
        Jobs run inside this server (the embedded default). To spread whole-volume predictions over several machines, start
        Redis, set <code>PETROMAP_REDIS_URL</code> for the server and run <code>npx petromap worker</code> on each machine that
        sees this workspace (README, “Several machines”).
      </p>
    );
  }
  return (
    <>
      <p className="small muted">Queue on <code>{d.redis}</code>{d.error ? '' : ` · ${d.workers.length} worker${d.workers.length === 1 ? '' : 's'} connected`}</p>
      {d.error && <div className="error" data-testid="workers-error">Redis does not answer: {d.error}</div>}
      {!d.error && d.workers.length === 0 && <p className="muted">No worker is connected: run <code>npx petromap worker</code> on a machine that sees the workspace.</p>}
      {d.workers.length > 0 && (
        <table className="data" data-testid="worker-table">
          <thead>
            <tr><th>Host</th><th>Process</th><th>Threads × bricks</th><th>Brick in hand</th><th className="num">Done</th><th className="num">Failed</th><th>Throughput</th><th>Since</th></tr>
          </thead>
          <tbody>
            {d.workers.map((w) => (
              <tr key={w.id}>
                <td>{w.host}</td>
                <td className="num">{w.pid}</td>
                <td>{w.threads} × {w.concurrency}</td>
                <td className="small">{w.inHand.length ? w.inHand.join(', ') : <span className="muted">none</span>}</td>
                <td className="num">{w.bricksDone}</td>
                <td className="num">{w.bricksFailed}</td>
                <td>{mvox(w.voxelsPerSecond)}</td>
                <td className="num">{formatDate(new Date(w.startedAt))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
