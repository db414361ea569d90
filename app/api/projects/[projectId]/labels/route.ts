/** GET /api/projects/:projectId/labels?axis=z|y|x&index=&level=&hide=1,3: predicted classes of one slice (class colours, 0 transparent). */
import { z } from 'zod';
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { labelSlicePng } from '@/server/pipeline/results';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({
  axis: z.enum(['z', 'y', 'x']).default('z'),
  index: z.coerce.number().int().min(0),
  level: z.coerce.number().int().min(0).default(0),
  hide: z.string().regex(/^(\d{1,3}(,\d{1,3})*)?$/, 'a comma-separated list of class codes').default(''),
});

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return jsonError(`Bad label slice request: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400);
  try {
    const hide = q.data.hide ? q.data.hide.split(',').map(Number) : [];
    const png = await labelSlicePng(services(), projectId, q.data.axis, q.data.index, q.data.level, hide);
    return new Response(Buffer.from(png), { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' } });
  } catch (err) {
    return errorResponse(err, 'Reading the label slice');
  }
}
