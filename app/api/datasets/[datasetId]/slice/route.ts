/**
 * GET /api/datasets/:datasetId/slice?axis=z|y|x&index=&level=&channel=&format=png|raw&min=&max=
 * `format=raw` returns the slice's values in the store dtype (little-endian), for histograms.
 */
import { z } from 'zod';
import { services } from '@/server/services';
import { idRoute, sliceQuery } from '@/server/http';
import { volumeStore } from '@/server/storage/open-stores';
import { autoWindow, greyPng, readSlice } from '@/server/render/slice';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = sliceQuery.extend({
  channel: z.coerce.number().int().min(0).max(255).default(0),
  format: z.enum(['png', 'raw']).default('png'),
  min: z.coerce.number().finite().optional(),
  max: z.coerce.number().finite().optional(),
});

export const GET = idRoute('the slice', query, async (datasetId, q) => {
  const store = await volumeStore(services(), datasetId);
  const { data, width, height } = await readSlice(store, q);
  const headers = { 'Cache-Control': 'private, max-age=60', 'X-Slice-Width': String(width), 'X-Slice-Height': String(height), 'X-Dtype': store.meta.dtype };
  if (q.format === 'raw') {
    const bytes = new Uint8Array(data.byteLength);
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return new Response(bytes.buffer, { headers: { ...headers, 'Content-Type': 'application/octet-stream' } });
  }
  const auto = q.min === undefined || q.max === undefined ? autoWindow(data) : undefined;
  const win: [number, number] = [q.min ?? auto![0], q.max ?? auto![1]];
  return new Response(Buffer.from(greyPng(data, width, height, win)), { headers: { ...headers, 'Content-Type': 'image/png' } });
});
