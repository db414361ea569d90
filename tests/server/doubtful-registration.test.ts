/**
 * The web app stops on a doubtful automatic registration (lib/registration/confidence.ts): an EDS map
 * given a wrong pixel size (0.6x: 82 voxels off on this sample) is registered and stored with its
 * confidence, 'doubtful'; Accept refuses it and Train refuses to start on it until the user confirms
 * it on the Correlate page ("I checked the overlay — use this registration"). Before, Accept took it
 * and Train trained on a map far off without a word. The confirmation names the registration the page
 * showed (a model switched meanwhile is refused), and a switched model shows its own confidence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSandstone } from '@/lib/synthetic';
import { createCaller } from '@/server/routers/_app';
import type { Services } from '@/server/services';
import { addEdsDataset, addVolumeDataset, tempWorkspace } from './temp-workspace';

let svc: Services, cleanup: () => void, projectId: string;
let caller: ReturnType<typeof createCaller>;
const g = globalThis as unknown as { __petromap?: Services };

beforeAll(async () => {
  ({ svc, cleanup } = tempWorkspace({ prefix: 'petromap-doubt-' }));
  g.__petromap = svc;
  caller = createCaller({ svc });
  // the measurement's style A sample, seed 17 (docs/registration-confidence.md), its map at 0.6x its pixel size
  const s = generateSandstone({
    shape: [24, 128, 128], voxelUm: 2, seed: 17, surfaceDepthVox: 5, tiltDeg: 3, tiltAzimuthDeg: 37 * 17,
    eds: { rotationDeg: 53 * 17, pixelUm: 1.4, mirrored: false, offsetVox: { x: ((17 * 7) % 11) - 5, y: ((17 * 5) % 9) - 4 } },
  });
  projectId = svc.repo.createProject('Wrong pixel size', 'mineralogy').id;
  await addVolumeDataset(svc, projectId, s.volume, { name: 'scan.nrrd', chunk: [24, 64, 64] });
  await addEdsDataset(svc, projectId, { ...s.eds, pixelSizeUm: 0.6 * s.eds.pixelSizeUm }, { name: 'map.png' });
}, 60_000);
afterAll(() => {
  delete g.__petromap;
  cleanup?.();
});

describe('a doubtful automatic registration in the web app', () => {
  it('is stored with its confidence; Accept and Train refuse it until the overlay is confirmed', async () => {
    const { jobId } = await caller.correlate.autoRegister({ projectId });
    const j = await svc.jobs.wait(jobId);
    expect(j.state).toBe('done');
    const st = await caller.correlate.state({ projectId });
    const q = st.registration!.quality;
    expect('confidence' in q && q.confidence?.verdict).toBe('doubtful');
    expect(st.registration!.overlayChecked).toBe(false);

    // a plain Accept is refused, in words that say what to check and what to click
    await expect(caller.correlate.accept({ projectId })).rejects.toThrow(/Nothing confirms this registration of the top face's EDS map: .*pixel size.*I checked the overlay — use this registration.*landmark pairs/);
    expect(svc.repo.artifact(projectId, 'registration')!.accepted).toBe(false);

    // the user switches the model on the page: the confidence shown is that model's (before: the automatic choice's stayed)
    await caller.correlate.chooseModel({ projectId, model: 'similarity' });
    const switched = (await caller.correlate.state({ projectId })).registration!;
    const sq = switched.quality;
    expect('confidence' in sq && sq.confidence?.reason).toMatch(/^for the similarity model you chose: /);
    expect('confidence' in sq && sq.confidence?.verdict).toBe('doubtful');
    // "I checked the overlay" sent for the registration the page showed before the switch: refused, nothing accepted
    await expect(caller.correlate.accept({ projectId, checkedOverlay: true, createdAt: st.registration!.createdAt }))
      .rejects.toThrow(/The registration changed since the page showed it .*nothing was accepted/);
    expect(svc.repo.artifact(projectId, 'registration')!.overlayChecked).toBeFalsy();
    // accepted by other means (stored so) without the confirmation: Train still refuses
    svc.repo.setArtifact(projectId, 'registration', { ...svc.repo.artifact(projectId, 'registration')!, accepted: true });
    await expect(caller.train.start({ projectId, epochs: 1 })).rejects.toThrow(/Training was not started\. Nothing confirms this registration/);

    // the user checked the overlay: accepted, and Train starts
    const a = await caller.correlate.accept({ projectId, checkedOverlay: true, createdAt: switched.createdAt });
    expect(a.accepted).toBe(true);
    expect(svc.repo.artifact(projectId, 'registration')!.overlayChecked).toBe(true);
    expect((await caller.correlate.state({ projectId })).registration!.overlayChecked).toBe(true);
    const t = await caller.train.start({ projectId, epochs: 1 });
    expect(typeof t.jobId).toBe('string');
    svc.jobs.cancel(t.jobId);
    await svc.jobs.wait(t.jobId);
  }, 180_000);
});
