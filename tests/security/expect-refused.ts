/**
 * The assertions every hostile case of the security suite shares (issue 12): the child did not
 * crash, refused the input on purpose (optionally with one of `tags`), said so in one clean line
 * matching the case, and stayed under the memory limit. Leftovers are checked by each suite.
 * (Kept apart from harness.ts, which the fuzz benchmark imports outside vitest.)
 */
import { expect } from 'vitest';
import { RSS_LIMIT_MIB, isCleanMessage, type CaseRun } from './harness';

export function expectRefused(r: CaseRun, message: RegExp, tags?: RegExp): void {
  expect(r.crashed, r.error).toBe(false);
  expect(r.ok, 'the import should have been refused').toBe(false);
  if (tags) expect(r.tag).toMatch(tags);
  expect(isCleanMessage(r.error), r.error).toBe(true);
  expect(r.error).toMatch(message);
  expect(r.peakRssMiB).toBeLessThan(RSS_LIMIT_MIB);
}
