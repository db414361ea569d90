/** GET /api/projects/:projectId/preview.png?axis=z|y|x&index=&level=: the trained model on one slice (class colours, air transparent). */
import { services } from '@/server/services';
import { idRoute, pngResponse, sliceQuery } from '@/server/http';
import { previewPng } from '@/server/pipeline/train';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = idRoute('the model preview on this slice', sliceQuery, async (projectId, q, req) =>
  pngResponse(await previewPng(services(), projectId, q.axis, q.index, q.level, req.signal)),
);
