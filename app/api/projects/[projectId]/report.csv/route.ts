/** GET /api/projects/:projectId/report.csv?table=modal|depth|histograms|metrics: result tables as CSV. */
import { z } from 'zod';
import { services } from '@/server/services';
import { badQueryResponse, errorResponse, ID_RE, jsonError } from '@/server/http';
import { csvFileText } from '@/lib/report/csv';
import { reportCsv } from '@/server/pipeline/results';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const query = z.object({ table: z.enum(['modal', 'depth', 'histograms', 'metrics']).default('modal') });

export async function GET(req: Request, { params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!ID_RE.test(projectId)) return jsonError(`There is no project ${projectId}.`, 404);
  const q = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) return badQueryResponse('the results table', q.error);
  try {
    const svc = services();
    const { filename, csv } = await reportCsv(svc, projectId, q.data.table);
    // the sample's name first (as the scan proposals and Multi-scale downloads): tables of several projects stay apart
    const name = `${(svc.repo.project(projectId)?.name ?? projectId).replace(/[^a-z0-9._-]+/gi, '_')}-${filename}`;
    return new Response(csvFileText(csv), { headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' } });
  } catch (err) {
    return errorResponse(err, 'Writing the table');
  }
}
