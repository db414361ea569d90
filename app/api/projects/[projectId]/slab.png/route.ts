/** GET /api/projects/:projectId/slab.png: the surface slab (XRM grey along the fitted surface). */
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { slabPng } from '@/server/pipeline/correlate';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(_req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  try {
    return new Response(Buffer.from(await slabPng(services(), projectId)), { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' } });
  } catch (err) {
    return errorResponse(err, 'Rendering the surface slab');
  }
}
