/**
 * POST /api/projects/:projectId/upload?kind=volume|eds&name=<file name>[&pixelUm=][&spacing=z,y,x][&face=top|bottom]
 * (face: which polished face an EDS map shows; bottom = the sample's second mapped face, issue 15 §1)
 * Body: the raw file, streamed to the workspace's tmp/. The import itself runs as a job
 * (server/storage/import-job.ts), outside this handler: 202 + { jobId }, and the client follows
 * the job (jobs.byId). A refused upload (too large, disk full, bad query) answers a JSON { error }.
 */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { services } from '@/server/services';
import { badQueryResponse, errorResponse, guardResponse, ID_RE, jsonError } from '@/server/http';
import { streamToFile } from '@/server/storage/upload';
import { startImportJob } from '@/server/storage/import-job';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({
  kind: z.enum(['volume', 'eds']),
  name: z.string().trim().min(1).max(255),
  pixelUm: z.coerce.number().positive().optional(),
  spacing: z
    .string()
    .regex(/^[0-9.]+,[0-9.]+,[0-9.]+$/, 'must be three numbers in µm, z,y,x (such as 0.5,0.5,0.5)')
    .transform((s) => s.split(',').map(Number) as [number, number, number])
    .optional(),
  face: z.enum(['top', 'bottom']).optional(),
});

export async function POST(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  // Host/Origin guard (server/http-guard.ts) here, not in proxy.ts: a proxy would buffer the body
  const refused = guardResponse(req);
  if (refused) return refused;
  const { projectId } = await params;
  const svc = services();
  if (!ID_RE.test(projectId) || !svc.repo.project(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return badQueryResponse('the upload', q.error);
  const { kind } = q.data;
  const name = path.basename(q.data.name.replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '_') || 'upload';
  const ext = (name.toLowerCase().match(/\.(nii\.gz|[a-z0-9]{1,5})$/)?.[0] ?? '').replace(/[^a-z0-9.]/g, '');
  const tmp = svc.ws.tmpPath('upload') + ext;
  try {
    const len = req.headers.get('content-length');
    await streamToFile(req.body, tmp, { maxBytes: svc.env.maxUploadBytes, declaredBytes: len ? Number(len) : undefined, name, signal: req.signal });
  } catch (err) {
    await rm(tmp, { force: true });
    return errorResponse(err, `Receiving ${name}`);
  }
  try {
    // from here the job owns the file (it removes it when it ends)
    const job = startImportJob(svc, { projectId, kind, name, file: tmp, spacingUm: q.data.spacing, pixelSizeUm: q.data.pixelUm, face: kind === 'eds' ? q.data.face : undefined });
    return Response.json({ jobId: job.id }, { status: 202 });
  } catch (err) {
    await rm(tmp, { force: true });
    return errorResponse(err, `Importing ${name}`);
  }
}
