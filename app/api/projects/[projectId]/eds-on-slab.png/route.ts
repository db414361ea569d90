/** GET /api/projects/:projectId/eds-on-slab.png?mode=labels|outlines: the EDS map warped onto the slab. */
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { edsOnSlabPng } from '@/server/pipeline/correlate';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const mode = new URL(req.url).searchParams.get('mode') === 'outlines' ? 'outlines' : 'labels';
  try {
    return new Response(Buffer.from(await edsOnSlabPng(services(), projectId, mode)), { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' } });
  } catch (err) {
    return errorResponse(err, 'Rendering the EDS overlay');
  }
}
