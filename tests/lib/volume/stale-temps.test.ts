import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeStaleTemps } from '../../../lib/volume/zarr/atomic-file-system-store-node';

describe('removeStaleTemps', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('removes only the temp files a killed writer leaves beside its chunks', async () => {
    const root = mkdtempSync(join(tmpdir(), 'petromap-stale-'));
    dirs.push(root);
    mkdirSync(join(root, '0', 'c', '1', '2'), { recursive: true });
    writeFileSync(join(root, 'zarr.json'), '{}');
    writeFileSync(join(root, '0', 'c', '1', '2', '0'), 'chunk');
    writeFileSync(join(root, '0', 'c', '1', '2', '0.tmp-6299-929ecedd'), 'half a chunk');
    writeFileSync(join(root, '0', 'c', '1', '2', 'notes.tmp-x'), 'not ours');
    expect(await removeStaleTemps(root)).toBe(1);
    expect(readdirSync(join(root, '0', 'c', '1', '2')).sort()).toEqual(['0', 'notes.tmp-x']);
    expect(await removeStaleTemps(join(root, 'missing'))).toBe(0);
  });
});
