/**
 * GET /api/projects/:projectId/multiscale/pores?dataset=&axis=z|y|x&index=[&layer=strokes|prediction]
 *   → one slice (level 0) of an interior scan's painted pore/solid strokes (0 none, 1 pore, 2 solid)
 *   or of the prediction trained on them (1 pore, 2 solid), raw uint8; X-Slice-Width/Height.
 * PUT same URL (strokes) with a raw uint8 body of width × height bytes → replaces that slice; JSON
 *   { counts, changed }. A bad size or code is refused (400) before anything is written; a body
 *   longer than the slice is refused (413) before it is read into memory.
 * The Host/Origin guard runs here too (proxy.ts also matches this path; slices are small).
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError, MAX_SLICE_INDEX, parseGuardedProjectQuery, readBodyCapped } from '@/server/http';
import { sliceGeometry } from '@/server/pipeline/annotate';
import { readPorePrediction, readPoreStrokes, writePoreStrokes } from '@/server/pipeline/multiscale-pores';
import { volumeStore } from '@/server/storage/open-stores';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({
  dataset: z.string().regex(ID_RE, 'is not a dataset id'),
  axis: z.enum(['z', 'y', 'x']),
  index: z.coerce.number().int().min(0).max(MAX_SLICE_INDEX),
  layer: z.enum(['strokes', 'prediction']).default('strokes'),
});

/** What GET and PUT check first: the Host/Origin guard, the project id, the query; a refusal as its response. */
const parse = (req: Request, params: Promise<{ projectId: string }>) => parseGuardedProjectQuery(req, params, query, 'the pore/solid slice');

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const p = await parse(req, params);
  if (p.error) return p.error;
  try {
    const read = p.q.layer === 'prediction' ? readPorePrediction : readPoreStrokes;
    const { data, width, height } = await read(services(), p.projectId, p.q.dataset, p.q.axis, p.q.index);
    return new Response(new Uint8Array(data).buffer, {
      headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store', 'X-Slice-Width': String(width), 'X-Slice-Height': String(height) },
    });
  } catch (err) {
    return errorResponse(err, 'Reading the pore/solid slice');
  }
}

export async function PUT(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const p = await parse(req, params);
  if (p.error) return p.error;
  if (p.q.layer !== 'strokes') return jsonError('Only the painted strokes can be written.', 400);
  try {
    const svc = services();
    const d = svc.repo.dataset(p.q.dataset);
    if (!d || d.projectId !== p.projectId || d.kind !== 'volume') return jsonError(`There is no interior scan ${p.q.dataset} in this project.`, 404);
    const g = sliceGeometry((await volumeStore(svc, d.id)).meta.shape, p.q.axis, p.q.index);
    const b = await readBodyCapped(req, g.width * g.height + 4096, `Pore/solid slice ${p.q.axis} = ${p.q.index}`);
    if (!b.ok) return b.response;
    return Response.json(await writePoreStrokes(svc, p.projectId, p.q.dataset, p.q.axis, p.q.index, b.body));
  } catch (err) {
    return errorResponse(err, 'Saving the pore/solid slice');
  }
}
