/**
 * One error protocol across the compute host: a task's PetromapError comes back from the worker
 * with its tag, message, details and cause message; an error nobody tagged becomes 'Internal'
 * (500), never 'Unprocessable'; and the binary routes and tRPC map tags through one table.
 */
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PetromapError, isPetromapError } from '@/lib/errors';
import { writeDenseVolume } from '@/lib/volume/zarr-store-node';
import { errorFromReply, runTask } from '@/server/jobs/run-task';
import { ERROR_STATUS, statusOf, trpcCodeOf } from '@/server/errors';
import { errorResponse } from '@/server/http';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'petromap-errors-'));
const storePath = path.join(tmp, 'v.ome.zarr');
beforeAll(async () => {
  const shape: [number, number, number] = [4, 8, 8];
  await writeDenseVolume(storePath, { meta: { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels: ['grey'] }, data: new Uint8Array(256) }, { chunk: [4, 8, 8] });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('compute host errors', () => {
  it('keeps the tag, message and cause of a task error', async () => {
    const modelDir = path.join(tmp, 'bad-model');
    mkdirSync(modelDir);
    writeFileSync(path.join(modelDir, 'model.json'), '{ not json');
    const err = await runTask('predictSlice', { storePath, modelDir, axis: 'z', index: 0, level: 0 }).catch((e) => e);
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect(err.message).toMatch(/is not a readable classifier file/);
    expect((err.cause as Error).message).toMatch(/JSON/);
    // the shared worker of short calls answers the same
    const missing = await runTask('predictSlice', { storePath, modelDir: path.join(tmp, 'none'), axis: 'z', index: 0, level: 0 }, { shared: true }).catch((e) => e);
    expect(isPetromapError(missing, 'NotFound')).toBe(true);
  }, 60_000);

  it('turns an untagged error into Internal, with details and cause', async () => {
    const err = await runTask('nope' as 'featureThroughput', { storePath }).catch((e) => e);
    expect(isPetromapError(err, 'Internal')).toBe(true);
    expect(err.message).toMatch(/internal error: unknown task nope/);
    const e2 = errorFromReply('x', { type: 'error', id: 1, tag: 'Unprocessable', message: 'm', details: { n: 3 }, cause: 'why' });
    expect([e2._tag, e2.details, (e2.cause as Error).message]).toEqual(['Unprocessable', { n: 3 }, 'why']);
  }, 60_000);

  it('maps tags to one status table for HTTP and tRPC', () => {
    expect(statusOf(new PetromapError('Unsupported', 'x'))).toBe(415);
    expect(trpcCodeOf(new PetromapError('Unsupported', 'x'))).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(statusOf(new Error('bug'))).toBe(500);
    expect(ERROR_STATUS.Internal.status).toBe(500);
    expect(errorResponse(new PetromapError('Conflict', 'busy'), 'x').status).toBe(409);
    const origError = console.error;
    console.error = () => undefined;
    try {
      expect(errorResponse(new PetromapError('Internal', 'bug'), 'x').status).toBe(500);
    } finally {
      console.error = origError;
    }
  });
});
