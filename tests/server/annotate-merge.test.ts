/**
 * A saved stroke never erases another one saved meanwhile. The page kept its own copy of each
 * painted slice and sent the whole slice back after a stroke; a panel whose copy was older (a stroke
 * on the XZ view crossing this XY slice, saved before the XY panel fetched the slice again; a stroke
 * right after undo or redo; a second tab) erased those voxels. Now the page sends only the voxels its
 * edit changed, every other voxel as KEEP_VOXEL ("as stored"), and the server merges under the
 * project's lock. Real route pipeline, real store.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KEEP_VOXEL } from '@/lib/volume/slice-edit';
import { addClass, readAnnotationSlice, writeAnnotationSlice } from '@/server/pipeline/annotate';
import type { Services } from '@/server/services';
import type { Shape3 } from '@/lib/volume/types';
import { addVolume, makeServices, type Fixture } from './annotate-helpers';

const shape: Shape3 = [10, 16, 20];
const [nz, ny, nx] = shape;
let fx: Fixture;
let svc: Services;
let projectId: string;

beforeAll(async () => {
  fx = makeServices();
  svc = fx.svc;
  projectId = svc.repo.createProject('Crossing strokes', 'lithology').id;
  await addVolume(svc, projectId, shape, new Uint8Array(nz * ny * nx).fill(100));
  addClass(svc, projectId, { name: 'high porosity', color: [66, 135, 245] });
  addClass(svc, projectId, { name: 'low porosity', color: [230, 159, 0] });
});
afterAll(() => fx.cleanup());

/** what the page sends for an edit of `from` into `to` (app/_components/annotate/paint-panel.tsx putSlice) */
const edit = (from: Uint8Array, to: Uint8Array) => to.map((v, i) => (v === from[i] ? KEEP_VOXEL : v));

it('a stroke on a slice whose copy predates a crossing stroke keeps the crossing voxels', async () => {
  // the XY panel (z = 4) has its copy of the slice: empty
  const xyCopy = (await readAnnotationSlice(svc, projectId, 'z', 4)).data;
  expect(xyCopy.every((v) => v === 0)).toBe(true);
  // meanwhile a stroke on the XZ view (y = 8) crosses z = 4 at x 2..9
  const xz = new Uint8Array(nz * nx);
  for (let z = 1; z < 9; z++) for (let x = 2; x < 10; x++) xz[z * nx + x] = 1;
  await writeAnnotationSlice(svc, projectId, 'y', 8, xz);
  expect((await readAnnotationSlice(svc, projectId, 'z', 4)).data[8 * nx + 5]).toBe(1);
  // the XY panel saves its stroke (class 2 along x 12..17) from its older copy
  const after = xyCopy.slice();
  for (let y = 2; y < 14; y++) for (let x = 12; x < 18; x++) after[y * nx + x] = 2;
  const r = await writeAnnotationSlice(svc, projectId, 'z', 4, edit(xyCopy, after));
  expect(r.changed).toBe(12 * 6);
  const stored = (await readAnnotationSlice(svc, projectId, 'z', 4)).data;
  for (let x = 2; x < 10; x++) expect(stored[8 * nx + x], `crossing voxel x ${x}`).toBe(1);
  for (let x = 12; x < 18; x++) expect(stored[5 * nx + x]).toBe(2);
  expect(r.counts).toEqual({ 1: 8 * 8, 2: 12 * 6 });

  // undo of that stroke (its voxels back to empty) leaves the crossing stroke too
  await writeAnnotationSlice(svc, projectId, 'z', 4, edit(after, xyCopy));
  const undone = (await readAnnotationSlice(svc, projectId, 'z', 4)).data;
  expect(undone.filter((v) => v === 2).length).toBe(0);
  expect(undone.filter((v) => v === 1).length).toBe(8);
});

it('a slice sent whole (no KEEP_VOXEL) still replaces the slice, as before', async () => {
  const whole = new Uint8Array(ny * nx).fill(2);
  await writeAnnotationSlice(svc, projectId, 'z', 6, whole);
  expect((await readAnnotationSlice(svc, projectId, 'z', 6)).data.every((v) => v === 2)).toBe(true);
});
