/**
 * GET /api/projects/:projectId/export?what=labels|probabilities|uncertainty&format=ome-zarr|ome-zarr-v2|nrrd|nifti|tiff:
 * the predicted volume as a download, streamed slice by slice (OME-Zarr: the store's files zipped as they are read).
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { badQueryResponse, errorResponse, ID_RE, jsonError } from '@/server/http';
import { exportVolumeStream, VOLUME_FORMATS } from '@/server/pipeline/results';
import { downloadResponse } from '@/server/download-response';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({
  what: z.enum(['labels', 'probabilities', 'uncertainty']).default('labels'),
  format: z.enum(VOLUME_FORMATS).default('nrrd'),
});

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return badQueryResponse('the volume export', q.error);
  try {
    const ex = await exportVolumeStream(services(), projectId, q.data.what, q.data.format, req.signal);
    return downloadResponse(ex, services().repo.project(projectId)?.name ?? projectId);
  } catch (err) {
    return errorResponse(err, 'Exporting the prediction');
  }
}
