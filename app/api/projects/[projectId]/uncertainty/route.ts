/** GET /api/projects/:projectId/uncertainty?axis=z|y|x&index=&level=: uncertainty of one slice as a heat overlay. */
import { z } from 'zod';
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { uncertaintySlicePng } from '@/server/pipeline/results';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({
  axis: z.enum(['z', 'y', 'x']).default('z'),
  index: z.coerce.number().int().min(0),
  level: z.coerce.number().int().min(0).default(0),
});

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return jsonError(`Bad uncertainty slice request: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400);
  try {
    const png = await uncertaintySlicePng(services(), projectId, q.data.axis, q.data.index, q.data.level);
    return new Response(Buffer.from(png), { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' } });
  } catch (err) {
    return errorResponse(err, 'Reading the uncertainty slice');
  }
}
