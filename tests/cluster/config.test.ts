/** Distributed-mode settings (no Redis needed): URL parsing, workspace confinement of queued paths, queue names. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  IDENTITY, QUEUE_BRICKS, checkBox, clusterFromEnv, redactUrl, redisOptionsFromUrl, relativeToWorkspace, resolveInWorkspace,
} from '../../lib/cluster/config';
import { decodeError } from '../../lib/cluster/brick-queue-node';
import { encodeError } from '../../lib/cluster/worker-node';
import { PetromapError, isPetromapError } from '../../lib/errors';

describe('cluster config', () => {
  it('reads host, port, ACL user, password and db from PETROMAP_REDIS_URL and hides the password in messages', () => {
    expect(redisOptionsFromUrl('redis://10.0.0.5:6380')).toMatchObject({ host: '10.0.0.5', port: 6380, username: undefined, password: undefined });
    expect(redisOptionsFromUrl('redis://petromap:s%40cret@redis.lab:6379/2')).toMatchObject({ host: 'redis.lab', username: 'petromap', password: 's@cret', db: 2 });
    expect(redisOptionsFromUrl('redis://:only-pass@h')).toMatchObject({ host: 'h', port: 6379, password: 'only-pass' });
    expect(redisOptionsFromUrl('rediss://h:1').tls).toEqual({});
    expect(redactUrl('redis://u:pw@h:1')).toBe('redis://u:***@h:1');
    expect(() => redisOptionsFromUrl('http://h')).toThrow(/redis:\/\//);
    expect(clusterFromEnv({} as NodeJS.ProcessEnv)).toBeNull();
    expect(clusterFromEnv({ PETROMAP_REDIS_URL: 'redis://h:1', PETROMAP_DATA: '/srv/ws' } as unknown as NodeJS.ProcessEnv)).toEqual({ redisUrl: 'redis://h:1', workspace: '/srv/ws' });
  });

  it('sends paths relative to the workspace and refuses queued paths that leave it', () => {
    const ws = '/srv/petromap';
    expect(relativeToWorkspace(ws, join(ws, 'datasets/a/volume.ome.zarr'), 'volume')).toBe('datasets/a/volume.ome.zarr');
    expect(() => relativeToWorkspace(ws, '/elsewhere/v.ome.zarr', 'volume')).toThrow(/outside the workspace/);
    expect(resolveInWorkspace('/mnt/ws', 'datasets/a/volume.ome.zarr', 'volume')).toBe('/mnt/ws/datasets/a/volume.ome.zarr');
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a\\..\\..\\x', 'C:/x', '', 'a\0b', 42]) {
      expect(() => resolveInWorkspace('/mnt/ws', bad, 'volume'), String(bad)).toThrow(PetromapError);
    }
    expect(checkBox({ start: [0, 64, 128], shape: [64, 64, 64] })).toEqual({ start: [0, 64, 128], shape: [64, 64, 64] });
    for (const bad of [null, { start: [0, 0], shape: [1, 1, 1] }, { start: [-1, 0, 0], shape: [1, 1, 1] }, { start: [0, 0, 0], shape: [0, 1, 1] }, { start: [0, 0, 0.5], shape: [1, 1, 1] }]) {
      expect(() => checkBox(bad)).toThrow(/no valid box/);
    }
  });

  it('names the queue after the version, model format and protocol, and carries error tags across Redis', () => {
    expect(QUEUE_BRICKS).toContain(IDENTITY.petromap);
    expect(QUEUE_BRICKS).toContain('petromap-voxel-classifier');
    expect(QUEUE_BRICKS).not.toMatch(/:/); // BullMQ queue names may not hold ':'
    const e = decodeError(encodeError(new PetromapError('NotFound', 'No trained classifier in /mnt/ws/model.')), 'Brick 0_0_0 failed');
    expect(isPetromapError(e, 'NotFound')).toBe(true);
    expect(e.message).toBe('Brick 0_0_0 failed: No trained classifier in /mnt/ws/model.');
    expect(isPetromapError(decodeError('something else', 'x'), 'Internal')).toBe(true);
  });
});
