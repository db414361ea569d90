/** GET /api/projects/:projectId/preview.png?axis=z|y|x&index=&level=: the trained model on one slice (class colours, air transparent). */
import { z } from 'zod';
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { previewPng } from '@/server/pipeline/train';

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
  if (!q.success) return jsonError(`Bad preview request: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400);
  try {
    const png = await previewPng(services(), projectId, q.data.axis, q.data.index, q.data.level);
    return new Response(Buffer.from(png), { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' } });
  } catch (err) {
    return errorResponse(err, 'Previewing the model on the slice');
  }
}
