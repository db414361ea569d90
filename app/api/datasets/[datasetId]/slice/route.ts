/**
 * GET /api/datasets/:datasetId/slice?axis=z|y|x&index=&level=&channel=&format=png|raw&min=&max=
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { volumeStore } from '@/server/storage/open-stores';
import { autoWindow, greyPng, readSlice } from '@/server/render/slice';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({
  axis: z.enum(['z', 'y', 'x']).default('z'),
  index: z.coerce.number().int().min(0),
  level: z.coerce.number().int().min(0).default(0),
  channel: z.coerce.number().int().min(0).default(0),
  format: z.enum(['png', 'raw']).default('png'),
  min: z.coerce.number().finite().optional(),
  max: z.coerce.number().finite().optional(),
});

export async function GET(req: Request, { params }: { params: Promise<{ datasetId: string }> }) {
  const { datasetId } = await params;
  if (!ID_RE.test(datasetId)) return jsonError(`There is no dataset ${datasetId}.`, 404);
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return jsonError(`Bad slice request: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400);
  try {
    const store = await volumeStore(services(), datasetId);
    const { data, width, height } = await readSlice(store, q.data);
    const headers = { 'Cache-Control': 'private, max-age=60', 'X-Slice-Width': String(width), 'X-Slice-Height': String(height), 'X-Dtype': store.meta.dtype };
    if (q.data.format === 'raw') {
      const bytes = new Uint8Array(data.byteLength);
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return new Response(bytes.buffer, { headers: { ...headers, 'Content-Type': 'application/octet-stream' } });
    }
    const auto = q.data.min === undefined || q.data.max === undefined ? autoWindow(data) : undefined;
    const win: [number, number] = [q.data.min ?? auto![0], q.data.max ?? auto![1]];
    return new Response(Buffer.from(greyPng(data, width, height, win)), { headers: { ...headers, 'Content-Type': 'image/png' } });
  } catch (err) {
    return errorResponse(err, 'Reading the slice');
  }
}
