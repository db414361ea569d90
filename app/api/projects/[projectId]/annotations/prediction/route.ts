/**
 * GET /api/projects/:projectId/annotations/prediction?axis=z|y|x&index= → one slice of the
 * lithology map predicted from the strokes, raw uint8 class codes at level 0.
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { badQueryResponse, errorResponse, ID_RE, jsonError, MAX_SLICE_INDEX } from '@/server/http';
import { readPredictionSlice } from '@/server/pipeline/annotate';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({ axis: z.enum(['z', 'y', 'x']), index: z.coerce.number().int().min(0).max(MAX_SLICE_INDEX) });

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return badQueryResponse('the predicted lithology slice', q.error);
  try {
    const { data, width, height } = await readPredictionSlice(services(), projectId, q.data.axis, q.data.index);
    return new Response(new Uint8Array(data).buffer, {
      headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store', 'X-Slice-Width': String(width), 'X-Slice-Height': String(height) },
    });
  } catch (err) {
    return errorResponse(err, 'Reading the predicted lithology slice');
  }
}
