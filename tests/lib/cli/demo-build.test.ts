/**
 * `npm run demo` builds the app when there is no build or the sources are newer than it: before,
 * an existing `.next` was always started, so after a `git pull` the demo served the old app.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildState } from '../../../scripts/build-stale.mjs';

const root = mkdtempSync(path.join(os.tmpdir(), 'petromap-demo-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const touch = (file: string, seconds: number) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'x');
  utimesSync(file, seconds, seconds);
};

describe('npm run demo: is the build up to date?', () => {
  it('missing without a build, fresh when built after the sources, stale when a source is newer', () => {
    touch(path.join(root, 'lib', 'cli', 'main.ts'), 1_000_000);
    expect(buildState(root)).toBe('missing');
    touch(path.join(root, '.next', 'BUILD_ID'), 2_000_000);
    expect(buildState(root)).toBe('fresh');
    touch(path.join(root, 'app', 'page.tsx'), 3_000_000); // a pulled change to the app
    expect(buildState(root)).toBe('stale');
    touch(path.join(root, '.next', 'BUILD_ID'), 4_000_000);
    touch(path.join(root, 'node_modules', 'x', 'index.js'), 5_000_000); // not a source
    touch(path.join(root, 'data', 'petromap.db'), 5_000_000); // the workspace is not a source
    expect(buildState(root)).toBe('fresh');
  });
});
