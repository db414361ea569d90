/** GET /api/projects/:projectId/slab.png: the surface slab (XRM grey along the fitted surface). */
import { z } from 'zod';
import { services } from '@/server/services';
import { idRoute, pngResponse } from '@/server/http';
import { slabPng } from '@/server/pipeline/correlate';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = idRoute('the surface slab', z.object({}), async (projectId) => pngResponse(await slabPng(services(), projectId)));
