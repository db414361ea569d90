/**
 * GET /api/projects/:projectId/annotations/slice?axis=z|y|x&index= → the painted slice (level 0)
 *   as raw uint8 class codes (0 = unlabelled); columns/rows as the dataset slice route.
 * PUT same URL with a raw uint8 body of width × height bytes → replaces that slice; JSON
 *   { counts, changed } (painted voxels per class code). A bad size or unknown class code is
 *   refused (400) before anything is written; a body longer than the slice (Content-Length or
 *   streamed) is refused (413) before it is read into memory.
 * Not matched by proxy.ts (Next would buffer the body there): the Host/Origin guard runs here.
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { errorResponse, MAX_SLICE_INDEX, parseGuardedProjectQuery, readBodyCapped } from '@/server/http';
import { readAnnotationSlice, sliceGeometry, writeAnnotationSlice } from '@/server/pipeline/annotate';
import { projectDatasets } from '@/server/pipeline/project-inputs';
import { volumeStore } from '@/server/storage/open-stores';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({
  axis: z.enum(['z', 'y', 'x']),
  index: z.coerce.number().int().min(0).max(MAX_SLICE_INDEX),
});

/** extra bytes read past the slice size, so that a slightly wrong body gets the size message of writeAnnotationSlice */
const MARGIN = 4096;

/** What GET and PUT check first: the Host/Origin guard, the project id, the query; a refusal as its response. */
const parse = (req: Request, params: Promise<{ projectId: string }>) => parseGuardedProjectQuery(req, params, query, 'the painted slice');

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const p = await parse(req, params);
  if (p.error) return p.error;
  const { projectId } = p;
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
  const p = await parse(req, params);
  if (p.error) return p.error;
  const { projectId } = p;
  try {
    const svc = services();
    const { volume } = projectDatasets(svc, projectId);
    // without a volume, writeAnnotationSlice says what is missing; else the slice size bounds the body
    if (!volume) return Response.json(await writeAnnotationSlice(svc, projectId, p.q.axis, p.q.index, new Uint8Array(0)));
    const cap = bytesOf(sliceGeometry((await volumeStore(svc, volume.id)).meta.shape, p.q.axis, p.q.index)) + MARGIN;
    const b = await readBodyCapped(req, cap, `Painted slice ${p.q.axis} = ${p.q.index}`);
    if (!b.ok) return b.response;
    const r = await writeAnnotationSlice(svc, projectId, p.q.axis, p.q.index, b.body);
    return Response.json(r);
  } catch (err) {
    return errorResponse(err, 'Saving the painted slice');
  }
}

const bytesOf = (g: { width: number; height: number }) => g.width * g.height;
