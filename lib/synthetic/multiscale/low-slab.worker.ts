/** Worker entry of the large synthetic scan's slabs (write-multiscale-node.ts writeLow). */
import { serveJobs } from '../../parallel/serve-node';
import { lowSlab, type LowSlab, type LowSlabJob } from './low-slab';

serveJobs<LowSlabJob, LowSlab>((job, ctx) => {
  const r = lowSlab(job);
  ctx.transfer([r.grey.buffer, r.classes.buffer]);
  return r;
});
