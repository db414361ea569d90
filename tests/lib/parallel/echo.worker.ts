/** Test worker for the pool: echo, progress, slow, failing and crashing jobs. */
import { threadId } from 'node:worker_threads';
import { invalidInput } from '../../../lib/errors';
import { serveJobs } from '../../../lib/parallel/serve-node';

export type EchoJob = { kind: 'echo' | 'progress' | 'spin' | 'fail' | 'crash' | 'plain-error'; value?: number; ms?: number };

serveJobs<EchoJob, { value: number; threadId: number; buf?: Float32Array }>(async (job, ctx) => {
  switch (job.kind) {
    case 'progress':
      ctx.progress(0.5, 'half way');
      return { value: job.value ?? 0, threadId };
    case 'spin': {
      const end = Date.now() + (job.ms ?? 60_000);
      while (Date.now() < end) {
        /* busy: only terminate() can stop this */
      }
      return { value: job.value ?? 0, threadId };
    }
    case 'fail':
      throw invalidInput('Scan "x.tif" has no voxels.');
    case 'plain-error':
      throw new Error('boom');
    case 'crash':
      process.exit(3);
    default: {
      const buf = new Float32Array(4).fill(job.value ?? 0);
      ctx.transfer([buf.buffer]);
      return { value: job.value ?? 0, threadId, buf };
    }
  }
});
