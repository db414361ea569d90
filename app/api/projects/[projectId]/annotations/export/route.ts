/**
 * GET /api/projects/:projectId/annotations/export?format=nrrd|nifti|tiff|ome-zarr|ome-zarr-v2|csv:
 * the lithology map predicted on Annotate as a download (class codes, streamed slice by slice;
 * OME-Zarr: the store's files zipped as they are read), or its classes as CSV.
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { badQueryResponse, errorResponse, ID_RE, jsonError } from '@/server/http';
import { exportLithologyStream, LITHOLOGY_FORMATS } from '@/server/pipeline/annotate-export';
import { downloadResponse } from '@/server/download-response';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({ format: z.enum(LITHOLOGY_FORMATS).default('nrrd') });

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return badQueryResponse('the lithology map download', q.error);
  try {
    const ex = await exportLithologyStream(services(), projectId, q.data.format, req.signal);
    return downloadResponse(ex, services().repo.project(projectId)?.name ?? projectId);
  } catch (err) {
    return errorResponse(err, 'Downloading the lithology map');
  }
}
