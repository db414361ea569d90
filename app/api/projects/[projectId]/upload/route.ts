/**
 * POST /api/projects/:projectId/upload?kind=volume|eds&name=<file name>[&pixelUm=][&spacing=z,y,x]
 * Body: the raw file, streamed to the workspace's tmp/ and then imported. 201 + the dataset, or
 * a JSON { error } naming the file and the problem.
 */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { streamToFile } from '@/server/storage/upload';
import { importEdsDataset, importVolumeDataset } from '@/server/storage/datasets';
import { datasetOut } from '@/server/routers/datasets';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({
  kind: z.enum(['volume', 'eds']),
  name: z.string().trim().min(1).max(255),
  pixelUm: z.coerce.number().positive().optional(),
  spacing: z
    .string()
    .regex(/^[0-9.]+,[0-9.]+,[0-9.]+$/)
    .transform((s) => s.split(',').map(Number) as [number, number, number])
    .optional(),
});

export async function POST(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  const svc = services();
  if (!ID_RE.test(projectId) || !svc.repo.project(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return jsonError(`Bad upload request: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400);
  const { kind, name } = q.data;
  const ext = (name.toLowerCase().match(/\.(nii\.gz|[a-z0-9]{1,5})$/)?.[0] ?? '').replace(/[^a-z0-9.]/g, '');
  const tmp = svc.ws.tmpPath('upload') + ext;
  try {
    const len = req.headers.get('content-length');
    await streamToFile(req.body, tmp, { maxBytes: svc.env.maxUploadBytes, declaredBytes: len ? Number(len) : undefined, name, signal: req.signal });
    const ctx = { repo: svc.repo, ws: svc.ws };
    const d = kind === 'volume'
      ? await importVolumeDataset(ctx, projectId, path.basename(name), tmp, { spacingUm: q.data.spacing, signal: req.signal })
      : await importEdsDataset(ctx, projectId, path.basename(name), tmp, { pixelSizeUm: q.data.pixelUm, signal: req.signal });
    return Response.json(datasetOut(d), { status: 201 });
  } catch (err) {
    return errorResponse(err, `Importing ${name}`);
  } finally {
    await rm(tmp, { force: true });
  }
}
