/**
 * Worker entry of buildPyramidsInThreads (pyramids-node.ts): builds the overview levels of some
 * channels of one store (its own store instance; the store is marked complete by the caller).
 */
import { buildPyramid, openVolume } from '../volume/zarr-store-node';
import { serveJobs } from './serve-node';

export interface PyramidJob {
  path: string;
  channels: number[];
}

serveJobs<PyramidJob, null>(async (job) => {
  await buildPyramid(await openVolume(job.path), { channels: job.channels, markComplete: false });
  return null;
});
