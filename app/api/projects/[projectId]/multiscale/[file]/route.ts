/**
 * GET /api/projects/:projectId/multiscale/:file → a file of the latest composite model (Multi-scale
 * step): classes.csv, depth.csv, footprints.csv, report.json, composite-porosity.nrrd|.nii|.tif, and
 * composite.ome.zarr.zip (the OME-Zarr store with both channels, zipped as it is read).
 * Written by the multi-scale job, streamed from disk here; 404 before the first run.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { services } from '@/server/services';
import { errorResponse, ID_RE, jsonError } from '@/server/http';
import { downloadPath } from '@/server/pipeline/multiscale';
import { zipDirectory } from '@/lib/report/export-stream-node';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string; file: string }> }) {
  const { projectId, file } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  try {
    const svc = services();
    const d = await downloadPath(svc, projectId, file);
    const name = `${(svc.repo.project(projectId)?.name ?? projectId).replace(/[^a-z0-9._-]+/gi, '_')}-multiscale-${file}`;
    if (d.folder) {
      return new Response(Readable.toWeb(Readable.from(zipDirectory(d.file, 'composite.ome.zarr', { signal: req.signal }))) as ReadableStream, {
        headers: { 'Content-Type': d.type, 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' },
      });
    }
    const size = (await stat(d.file)).size;
    return new Response(Readable.toWeb(createReadStream(d.file)) as ReadableStream, {
      headers: { 'Content-Type': d.type, 'Content-Length': String(size), 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' },
    });
  } catch (err) {
    return errorResponse(err, 'Reading the composite model');
  }
}
