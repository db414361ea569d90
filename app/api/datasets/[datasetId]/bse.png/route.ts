/** GET /api/datasets/:datasetId/bse.png[?name=BSE]: a companion image (BSE by default), 8-bit. */
import { z } from 'zod';
import { services } from '@/server/services';
import { idRoute, jsonError, pngResponse } from '@/server/http';
import { mineralMap } from '@/server/storage/open-stores';
import { renderCompanionPng } from '@/lib/eds/store-node';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = idRoute('the companion image', z.object({ name: z.string().max(64).default('BSE') }), async (datasetId, q) => {
  const map = await mineralMap(services(), datasetId);
  const c = map.companions.find((x) => x.name.toUpperCase() === q.name.toUpperCase());
  if (!c) return jsonError(`The map ${map.source ?? datasetId} has no ${q.name} image.`, 404);
  return pngResponse(renderCompanionPng(map, c.name), 'private, max-age=300');
});
