/** GET /api/datasets/:datasetId/eds.png: the mineral map in its legend colours, unclassified black. */
import { z } from 'zod';
import { services } from '@/server/services';
import { idRoute, pngResponse } from '@/server/http';
import { mineralMap } from '@/server/storage/open-stores';
import { renderMineralMapPng } from '@/lib/eds/store-node';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = idRoute('the mineral map', z.object({}), async (datasetId) =>
  pngResponse(renderMineralMapPng(await mineralMap(services(), datasetId)), 'private, max-age=300'),
);
