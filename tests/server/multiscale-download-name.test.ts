/**
 * A multi-scale download is looked up by its own names only (reviewer R4): `constructor`,
 * `__proto__` or `toString` are found on every object's prototype chain and passed the lookup.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '@/lib/errors';
import { DOWNLOADS, downloadPath } from '@/server/pipeline/multiscale';
import { tempProject } from './temp-workspace';

const t = tempProject('Multi-scale downloads', { kind: 'lithology' });
afterAll(() => t.cleanup());

describe('multi-scale download names', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('%s is no download (NotFound, in words)', async (name) => {
    const err = await downloadPath(t.svc, t.projectId, name).then(() => null, (e: unknown) => e);
    expect(isPetromapError(err, 'NotFound')).toBe(true);
    expect((err as Error).message).toBe(`There is no multi-scale download called ${name}.`);
  });

  it('a real name before any run: NotFound saying there is no composite model yet', async () => {
    expect(Object.keys(DOWNLOADS)).toContain('report.json');
    const err = await downloadPath(t.svc, t.projectId, 'report.json').then(() => null, (e: unknown) => e);
    expect(isPetromapError(err, 'NotFound')).toBe(true);
    expect((err as Error).message).toMatch(/no composite model yet/);
  });
});
