/**
 * GET /api/projects/:projectId/export?what=labels|probabilities|uncertainty&format=ome-zarr|ome-zarr-v2|nrrd|nifti|tiff:
 * the predicted volume as a download, streamed slice by slice (OME-Zarr: the store's files zipped as they are read).
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { badQueryResponse, errorResponse, ID_RE, jsonError } from '@/server/http';
import { exportVolumeStream, VOLUME_FORMATS } from '@/server/pipeline/results';

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
    const it = ex.body;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        try {
          const r = await it.next();
          if (r.done) ctrl.close();
          else ctrl.enqueue(r.value);
        } catch (err) {
          ctrl.error(err);
        }
      },
      async cancel() {
        await it.return(undefined);
      },
    });
    // the sample's name first, as the scan proposals and Multi-scale downloads have it: "labels.nrrd" from several projects could not be told apart
    const name = `${(services().repo.project(projectId)?.name ?? projectId).replace(/[^a-z0-9._-]+/gi, '_')}-${ex.filename}`;
    const headers: Record<string, string> = { 'Content-Type': ex.contentType, 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' };
    if (ex.length !== undefined) headers['Content-Length'] = String(ex.length);
    // a voxel size assumed at import: the file says so in its header; scripts that download can read it here too
    if (ex.spacingAssumed) headers['X-Petromap-Voxel-Size'] = 'assumed';
    return new Response(body, { headers });
  } catch (err) {
    return errorResponse(err, 'Exporting the prediction');
  }
}
