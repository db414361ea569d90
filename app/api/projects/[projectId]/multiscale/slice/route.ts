/**
 * GET /api/projects/:projectId/multiscale/slice?axis=z|y|x&index= → one slice of the latest
 * composite model (Multi-scale step), level 0, raw little-endian float32: width × height porosity
 * values, then width × height uncertainties (NaN where a class has no measurement). Headers
 * X-Slice-Width / X-Slice-Height; 404 before the first run.
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { idRoute, MAX_SLICE_INDEX } from '@/server/http';
import { compositeSlice } from '@/server/pipeline/multiscale';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({ axis: z.enum(['z', 'y', 'x']), index: z.coerce.number().int().min(0).max(MAX_SLICE_INDEX) });

export const GET = idRoute('the composite-model slice', query, async (projectId, q) => {
  const { data, width, height } = await compositeSlice(services(), projectId, q.axis, q.index);
  return new Response(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer, {
    headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store', 'X-Slice-Width': String(width), 'X-Slice-Height': String(height) },
  });
});
