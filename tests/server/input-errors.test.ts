/**
 * A bad tRPC input reaches the user in plain words: each problem's field and what is wrong, not
 * zod's JSON issue array (before: `train.start` with epochs 0 answered `[ { "origin": "number",
 * "code": "too_small", … } ]`). Real router, real zod, the real /api/trpc route handler.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCaller } from '@/server/routers/_app';
import { inputIssues, inputIssuesMessage } from '@/server/input-issues';
import type { Services } from '@/server/services';
import { tempProject, type TempProject } from './temp-workspace';

let t: TempProject;
let caller: ReturnType<typeof createCaller>;
const g = globalThis as unknown as { __petromap?: Services };

beforeAll(() => {
  t = tempProject('Input errors');
  g.__petromap = t.svc; // the route handler's createContext calls services()
  caller = createCaller({ svc: t.svc });
});
afterAll(() => {
  delete g.__petromap;
  t.cleanup();
});

const messageOf = (p: Promise<unknown>) =>
  p.then(
    () => { throw new Error('the call should have been refused'); },
    (e: { code?: string; message: string }) => {
      expect(e.code).toBe('BAD_REQUEST');
      return e.message;
    },
  );

/** no JSON, no zod vocabulary */
const plain = (m: string) => {
  expect(m).not.toMatch(/^\s*[[{]/);
  expect(m).not.toMatch(/"code"|too_small|invalid_type|Invalid input|expected number/);
};

describe('tRPC input errors in plain words', () => {
  it('epochs 0: the field and the bound, no issue array; nothing started', async () => {
    const m = await messageOf(caller.train.start({ projectId: t.projectId, epochs: 0 }));
    expect(m).toBe('Epochs: must be at least 1.');
    expect(t.repo.listJobs(t.projectId)).toHaveLength(0);
  });

  it("a message written in the schema is kept as written, after the field's name", async () => {
    const m = await messageOf(caller.train.start({ projectId: t.projectId, epochs: 101 }));
    expect(m).toMatch(/^Epochs: Train for at most 100 epochs \(training stops early/);
    plain(m);
    expect(await messageOf(caller.projects.create({ name: '   ' }))).toBe('Name: Give the project a name.');
  });

  it('several problems at once, each with its field; a missing value, a wrong type, text too long, a bad id', async () => {
    const m = await messageOf(caller.train.start({ projectId: 'no such/id', epochs: 2.5 }));
    expect(m).toBe('Project id: not a project id. Epochs: must be a whole number.');
    const long = await messageOf(caller.projects.create({ name: 'x'.repeat(121), kind: 'mineralogy' }));
    expect(long).toBe('Name: must have at most 120 characters.');
    const kind = await messageOf(caller.projects.create({ name: 'ok', kind: 'petrology' as 'mineralogy' }));
    expect(kind).toBe('Kind: must be one of "mineralogy", "lithology".');
    const missing = await messageOf(caller.projects.byId({} as { id: string }));
    expect(missing).toBe('Id: is missing.');
  });

  it('the HTTP route answers the same sentence, with the issues as data for the client', async () => {
    const { POST } = (await import('@/app/api/trpc/[trpc]/route')) as { POST: (r: Request) => Promise<Response> };
    const res = await POST(
      new Request('http://127.0.0.1:3000/api/trpc/train.start', {
        method: 'POST',
        headers: { host: '127.0.0.1:3000', 'content-type': 'application/json' },
        body: JSON.stringify({ json: { projectId: t.projectId, epochs: 0 } }),
      }),
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { json: { message: string; data: { code: string; inputIssues?: { path: unknown[]; field: string; message: string }[] } } } };
    expect(body.error.json.message).toBe('Epochs: must be at least 1.');
    expect(body.error.json.data.code).toBe('BAD_REQUEST');
    expect(body.error.json.data.inputIssues).toEqual([{ path: ['epochs'], field: 'Epochs', message: 'must be at least 1' }]);
  });

  it("zod's other default wordings, and more than four problems counted", () => {
    const s = z.strictObject({
      fovZ: z.number().positive(),
      classMap: z.array(z.object({ code: z.number() })).min(1),
      color: z.string().regex(/^#[0-9a-f]{6}$/i),
      sigmaUm: z.number().lt(50),
      tags: z.array(z.string()).max(2),
    });
    const r = s.safeParse({ fovZ: 0, classMap: [{ code: 'x' }], color: 'red', sigmaUm: 50, tags: ['a', 'b', 'c'], extra: 1 });
    expect(r.success).toBe(false);
    const m = inputIssuesMessage(r.error!);
    expect(m).toBe(
      'Field of view in z (µm): must be greater than 0. Class map, item 1, code: must be a number. Color: has a form or characters that are not allowed here. Scale (µm): must be less than 50. (2 more problems of the same request.)',
    );
    plain(m);
  });

  it('field names in plain words with their units, not camelCase split ("Pixel um", "Fov z")', () => {
    const s = z.object({ pixelUm: z.number().positive(), angleDeg: z.number().max(180), misfitVox: z.number().min(0), fovUm: z.tuple([z.number(), z.number(), z.number()]), edsId: z.string() });
    const r = s.safeParse({ pixelUm: -1, angleDeg: 200, misfitVox: -1, fovUm: [1, 2, 'x'], edsId: 3 });
    expect(r.success).toBe(false);
    const issues = inputIssues(r.error!).map((i) => i.field);
    expect(issues).toEqual(['Pixel size (µm)', 'Angle (°)', 'Misfit (voxels)', 'Field of view (µm), item 3', 'EDS id']);
  });

  it('a missing query number says "is missing", not "must be a number" (coercion turns both into NaN)', () => {
    const q = z.object({ axis: z.enum(['z', 'y', 'x']).default('z'), index: z.coerce.number().int().min(0) });
    const missing = q.safeParse({ axis: 'z' });
    const text = q.safeParse({ axis: 'z', index: 'abc' });
    expect(missing.success || text.success).toBe(false);
    // with the query it was parsed from: exact
    expect(inputIssuesMessage(missing.error!, { axis: 'z' })).toBe('Index: is missing.');
    expect(inputIssuesMessage(text.error!, { axis: 'z', index: 'abc' })).toBe('Index: must be a number.');
    // without it: both possible causes, never the wrong one alone
    expect(inputIssuesMessage(missing.error!)).toBe('Index: is missing or not a number.');
  });
});
