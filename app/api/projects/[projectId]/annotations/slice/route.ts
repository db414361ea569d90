/**
 * GET /api/projects/:projectId/annotations/slice?axis=z|y|x&index= → the painted slice (level 0)
 *   as raw uint8 class codes (0 = unlabelled); columns/rows as the dataset slice route.
 * PUT same URL with a raw uint8 body of width × height bytes → replaces that slice; JSON
 *   { counts, changed } (painted voxels per class code). A bad size or unknown class code is
 *   refused (400) before anything is written.
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { readAnnotationSlice, writeAnnotationSlice } from '@/server/pipeline/annotate';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({
  axis: z.enum(['z', 'y', 'x']),
  index: z.coerce.number().int().min(0),
});

function parse(req: Request) {
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return { error: jsonError(`Bad painted-slice request: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400) };
  return { q: q.data };
}

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const p = parse(req);
  if (p.error) return p.error;
  try {
    const { data, width, height } = await readAnnotationSlice(services(), projectId, p.q.axis, p.q.index);
    return new Response(new Uint8Array(data).buffer, {
      headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store', 'X-Slice-Width': String(width), 'X-Slice-Height': String(height) },
    });
  } catch (err) {
    return errorResponse(err, 'Reading the painted slice');
  }
}

export async function PUT(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const p = parse(req);
  if (p.error) return p.error;
  try {
    const body = new Uint8Array(await req.arrayBuffer());
    const r = await writeAnnotationSlice(services(), projectId, p.q.axis, p.q.index, body);
    return Response.json(r);
  } catch (err) {
    return errorResponse(err, 'Saving the painted slice');
  }
}
