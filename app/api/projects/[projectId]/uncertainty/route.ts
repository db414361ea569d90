/** GET /api/projects/:projectId/uncertainty?axis=z|y|x&index=&level=: uncertainty of one slice as a heat overlay. */
import { services } from '@/server/services';
import { idRoute, pngResponse, sliceQuery } from '@/server/http';
import { uncertaintySlicePng } from '@/server/pipeline/results';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = idRoute('the uncertainty slice', sliceQuery, async (projectId, q) =>
  pngResponse(await uncertaintySlicePng(services(), projectId, q.axis, q.index, q.level)),
);
