/** GET /api/projects/:projectId/slab.png[?face=bottom]: the surface slab (XRM grey along the fitted surface) of a face. */
import { z } from 'zod';
import { services } from '@/server/services';
import { idRoute, pngResponse } from '@/server/http';
import { slabPng } from '@/server/pipeline/correlate';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({ face: z.enum(['top', 'bottom']).default('top'), v: z.string().max(64).optional() });

export const GET = idRoute('the surface slab', query, async (projectId, q) => pngResponse(await slabPng(services(), projectId, q.face)));
