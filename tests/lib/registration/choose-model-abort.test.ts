/**
 * After the search and the refinement, the transform-model choice (model-choice.ts, choose-model.ts)
 * stops when its AbortSignal fires: it ran to the end synchronously before, so a Cancel that arrived
 * while it ran (a macrotask, as a job's Cancel request is) was seen only after the registration had
 * finished, and the cancelled job completed.
 */
import { describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import { makePhantom } from './phantom';

const phantom = makePhantom({});

describe('the transform-model choice yields to an abort', () => {
  it('rejects with the abort error when Cancel lands while the model is being chosen', async () => {
    const ctrl = new AbortController();
    const stages: string[] = [];
    const err = await registerEdsToVolume(phantom.volume, phantom.map, {
      inWorker: false,
      elastix: { iterations: 10, spatialSamples: 500 }, // the refinement is not under test: short
      signal: ctrl.signal,
      onProgress: (_f, m) => {
        if (m && stages[stages.length - 1] !== m) stages.push(m);
        // the Cancel arrives as the next task of the event loop, as a request to the server does
        if (m === 'choosing the transform model') setTimeout(() => ctrl.abort(), 0);
      },
    }).then(() => null, (e: unknown) => e);
    expect(stages).toContain('choosing the transform model');
    expect(isPetromapError(err, 'Aborted'), String(err)).toBe(true);
    expect(stages).not.toContain('registered');
  });
});
