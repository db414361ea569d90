/** GET /api/datasets/:datasetId/bse.png[?name=BSE]: a companion image (BSE by default), 8-bit. */
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { mineralMap } from '@/server/storage/open-stores';
import { renderCompanionPng } from '@/lib/eds/store-node';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(req: Request, { params }: { params: Promise<{ datasetId: string }> }) {
  const { datasetId } = await params;
  if (!ID_RE.test(datasetId)) return jsonError(`There is no dataset ${datasetId}.`, 404);
  const name = new URL(req.url).searchParams.get('name') ?? 'BSE';
  try {
    const map = await mineralMap(services(), datasetId);
    const c = map.companions.find((x) => x.name.toUpperCase() === name.toUpperCase());
    if (!c) return jsonError(`The map ${map.source ?? datasetId} has no ${name} image.`, 404);
    return new Response(Buffer.from(renderCompanionPng(map, c.name)), { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'private, max-age=300' } });
  } catch (err) {
    return errorResponse(err, 'Rendering the companion image');
  }
}
