/**
 * A bad query to a binary route (app/api/**) is answered 400 in the plain words of the tRPC
 * procedures (server/input-issues.ts), "Field: problem.", not zod's default wording (before:
 * `Bad prediction-slice request: index: Too small: expected number to be >=0`). One route of each
 * kind: a hand-written handler, idRoute, parseGuardedProjectQuery, and the upload (which looks the
 * project up first). Real route handlers, real zod.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '@/server/services';
import { tempProject, type TempProject } from './temp-workspace';

let t: TempProject;
const g = globalThis as unknown as { __petromap?: Services };

beforeAll(() => {
  t = tempProject('Route query words');
  g.__petromap = t.svc; // the upload route looks the project up through services()
});
afterAll(() => {
  delete g.__petromap;
  t.cleanup();
});

type Handler = (req: Request, ctx: { params: Promise<{ projectId: string }> }) => Promise<Response>;

async function errorOf(handler: Handler, route: string, query: string, method = 'GET') {
  const req = new Request(`http://localhost/api/projects/${t.projectId}/${route}?${query}`, {
    method,
    headers: { host: 'localhost' },
    ...(method === 'POST' ? { body: new Uint8Array(4) } : {}),
  });
  const res = await handler(req, { params: Promise.resolve({ projectId: t.projectId }) });
  expect(res.status).toBe(400);
  const { error } = (await res.json()) as { error: string };
  // no zod vocabulary, no dotted paths
  expect(error).not.toMatch(/Too small|Too big|Invalid (input|option)|expected (number|string)|>=|<=/);
  return error;
}

describe('binary routes: a bad query in plain words', () => {
  it('a hand-written route (predicted lithology slice): field and what is wrong', async () => {
    const { GET } = (await import('@/app/api/projects/[projectId]/annotations/prediction/route')) as { GET: Handler };
    expect(await errorOf(GET, 'annotations/prediction', 'axis=z&index=-1')).toBe('The request for the predicted lithology slice was not understood. Index: must be at least 0.');
    expect(await errorOf(GET, 'annotations/prediction', 'axis=w&index=1.5')).toBe(
      'The request for the predicted lithology slice was not understood. Axis: must be one of "z", "y", "x". Index: must be a whole number.',
    );
  });

  it('report.csv and export: an unknown choice lists the choices', async () => {
    const report = (await import('@/app/api/projects/[projectId]/report.csv/route')) as { GET: Handler };
    expect(await errorOf(report.GET, 'report.csv', 'table=modes')).toBe(
      'The request for the results table was not understood. Table: must be one of "modal", "depth", "histograms", "metrics".',
    );
    const exp = (await import('@/app/api/projects/[projectId]/export/route')) as { GET: Handler };
    expect(await errorOf(exp.GET, 'export', 'what=labels&format=png')).toMatch(/^The request for the volume export was not understood\. Format: must be one of "ome-zarr", .*"tiff"\.$/);
  });

  it('idRoute (label slice) and parseGuardedProjectQuery (painted slice)', async () => {
    const labels = (await import('@/app/api/projects/[projectId]/labels/route')) as { GET: Handler };
    expect(await errorOf(labels.GET, 'labels', 'axis=z')).toBe('The request for the label slice was not understood. Index: is missing or not a number.');
    const painted = (await import('@/app/api/projects/[projectId]/annotations/slice/route')) as { GET: Handler };
    expect(await errorOf(painted.GET, 'annotations/slice', 'axis=z&index=99999999')).toBe('The request for the painted slice was not understood. Index: must be at most 1000000.');
  });

  it('the upload: a missing kind and a malformed spacing, nothing received', async () => {
    const up = (await import('@/app/api/projects/[projectId]/upload/route')) as { POST: Handler };
    expect(await errorOf(up.POST, 'upload', 'name=scan.nrrd&spacing=1,2', 'POST')).toBe(
      'The request for the upload was not understood. Kind: must be one of "volume", "eds". Voxel size: must be three numbers in µm, z,y,x (such as 0.5,0.5,0.5).',
    );
  });
});
