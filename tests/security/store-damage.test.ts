/**
 * A petromap store's chunk changed on disk (cases-store-damage.ts) is refused, store, chunk and level
 * named, when read the way prediction and the server read it (`npm run bench -- fuzz` runs the same
 * cases in a child process with its peak memory).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../lib/errors';
import { storeDamageCases } from './cases-store-damage';
import { readStoreWhole } from './store-input';

let root: string;
beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), 'petromap-store-damage-'))));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('petromap stores damaged on disk', () => {
  storeDamageCases.forEach((c, i) => {
    it(c.name, async () => {
      const path = await c.make(join(root, `case-${i}`));
      const err = await readStoreWhole(path).then(() => null, (e: unknown) => e);
      expect(isPetromapError(err, 'InvalidInput'), String(err)).toBe(true);
      const msg = (err as Error).message;
      expect(msg).not.toContain('\n');
      expect(msg).toMatch(c.expect);
    });
  });
});
