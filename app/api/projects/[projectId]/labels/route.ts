/** GET /api/projects/:projectId/labels?axis=z|y|x&index=&level=&hide=1,3: predicted classes of one slice (class colours, 0 transparent). */
import { z } from 'zod';
import { services } from '@/server/services';
import { idRoute, pngResponse, sliceQuery } from '@/server/http';
import { labelSlicePng } from '@/server/pipeline/results';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = sliceQuery.extend({
  hide: z.string().max(1024).regex(/^(\d{1,3}(,\d{1,3})*)?$/, 'a comma-separated list of class codes').default(''),
});

export const GET = idRoute('the label slice', query, async (projectId, q) => {
  const hide = q.hide ? q.hide.split(',').map(Number) : [];
  return pngResponse(await labelSlicePng(services(), projectId, q.axis, q.index, q.level, hide));
});
