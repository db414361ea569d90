import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVolume, openVolume } from '../../../lib/volume/zarr-store-node';

// openVolume's refusal of a declared chunk names PETROMAP_MAX_DECODE_MB: the budget it checks must be
// the one that variable sets (it used the built-in default whatever the environment said).
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'petromap-env-limits-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.PETROMAP_MAX_DECODE_MB;
});

describe('openVolume reads the decode budget from the environment', () => {
  it('a budget below the store chunk refuses the store, naming the variable; the default opens it', async () => {
    const p = path.join(dir, 'v.ome.zarr');
    await createVolume(p, { shape: [32, 64, 64], spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, { chunk: [32, 64, 64] });
    await expect(openVolume(p)).resolves.toBeTruthy();
    process.env.PETROMAP_MAX_DECODE_MB = '0.1'; // 100 KiB < one 32 x 64 x 64 uint16 chunk (256 KiB)
    await expect(openVolume(p)).rejects.toThrow(/PETROMAP_MAX_DECODE_MB/);
  });
});
