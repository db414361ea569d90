/** GET /api/projects/:projectId/labels.nii: the predicted labels at a coarse size (longest axis ≤ 160) for the 3D view. */
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { labelsNifti } from '@/server/pipeline/results';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(_req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  try {
    const nii = await labelsNifti(services(), projectId);
    return new Response(Buffer.from(nii), { headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store' } });
  } catch (err) {
    return errorResponse(err, 'Writing the 3D label volume');
  }
}
