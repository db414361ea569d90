/**
 * GET /api/projects/:projectId/annotations/proposals.csv?fovZ=&fovY=&fovX= (µm) → the stored scan
 * proposals of that field of view (one row per class: box in voxels and µm, class fractions) as a
 * CSV download. Computed by the proposals job (Propose on the Annotate step), never here: 404 when
 * there are none for this field of view and the current map, 409 while they are being computed.
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { storedProposalsCsv } from '@/server/pipeline/annotate-jobs';
import { MAX_FOV_UM } from '@/server/routers/bounds';
import { inputIssuesMessage } from '@/server/input-issues';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const um = z.coerce.number().finite().positive().max(MAX_FOV_UM);
const query = z.object({ fovZ: um, fovY: um, fovX: um });

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const searchQuery = Object.fromEntries(new URL(req.url).searchParams);
  const q = query.safeParse(searchQuery);
  // in the field's words ("Field of view in z (µm): is missing."), not the query's keys (fovZ)
  if (!q.success) return jsonError(`The request for the scan proposals was not understood. ${inputIssuesMessage(q.error, searchQuery)} A field of view is in µm, greater than 0 and at most ${MAX_FOV_UM} µm.`, 400);
  try {
    const svc = services();
    const csv = storedProposalsCsv(svc, projectId, [q.data.fovZ, q.data.fovY, q.data.fovX]);
    const name = (svc.repo.project(projectId)?.name ?? projectId).replace(/[^a-z0-9._-]+/gi, '_');
    return new Response(csv, {
      headers: {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="${name}-scan-proposals.csv"`,
        'Cache-Control': 'no-store',
      },
    });
  } catch (err) {
    return errorResponse(err, 'Reading the scan proposals');
  }
}
