/** GET /api/datasets/:datasetId/eds.png: the mineral map in its legend colours, unclassified black. */
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { mineralMap } from '@/server/storage/open-stores';
import { renderMineralMapPng } from '@/lib/eds/store-node';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(_req: Request, { params }: { params: Promise<{ datasetId: string }> }) {
  const { datasetId } = await params;
  if (!ID_RE.test(datasetId)) return jsonError(`There is no dataset ${datasetId}.`, 404);
  try {
    const map = await mineralMap(services(), datasetId);
    return new Response(Buffer.from(renderMineralMapPng(map)), { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'private, max-age=300' } });
  } catch (err) {
    return errorResponse(err, 'Rendering the mineral map');
  }
}
