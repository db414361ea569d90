/** GET /api/projects/:projectId/eds-on-slab.png?mode=labels|outlines[&face=bottom]: the EDS map of a face warped onto its slab. */
import { z } from 'zod';
import { services } from '@/server/services';
import { idRoute, pngResponse } from '@/server/http';
import { edsOnSlabPng } from '@/server/pipeline/correlate';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({ mode: z.enum(['labels', 'outlines']).default('labels'), face: z.enum(['top', 'bottom']).default('top'), v: z.string().max(64).optional() });

export const GET = idRoute('the EDS overlay', query, async (projectId, q) => pngResponse(await edsOnSlabPng(services(), projectId, q.mode, q.face)));
