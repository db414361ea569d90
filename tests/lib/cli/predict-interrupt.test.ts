/**
 * `petromap predict` stopped by Ctrl-C says what is kept and the command that resumes it (before:
 * "The operation was cancelled."), and that command does resume. The --mirror none way out is added
 * to the refusal by its reason (lib/errors hasReason), not by its words. Real CLI train and predict.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTrainedOn } from '../../../lib/classify/trained-on';
import { hasReason, isPetromapError, PetromapError } from '../../../lib/errors';
import { interruptedMessage, main as predictMain, mirrorChoice } from '../../../lib/cli/predict';
import { main as trainMain } from '../../../lib/cli/train';
import { generateSandstone } from '../../../lib/synthetic';
import { capture, cliTempDir, writeSampleAtTruth } from './cli-session';

const tmp = cliTempDir('petromap-predict-interrupt-');

describe('petromap predict: Ctrl-C', () => {
  it('says how to resume, with the command, and the command resumes to the end', async () => {
    const sample = generateSandstone({ shape: [16, 32, 32], seed: 5, grainDiameterVox: 8 });
    const { vol, mapDir, reg } = await writeSampleAtTruth(tmp, sample);
    const model = join(tmp, 'model');
    expect((await capture(() => trainMain(['--volume', vol, '--eds', mapDir, '--registration', reg, '--epochs', '1', '--out', model]))).code).toBe(0);
    const out = join(tmp, 'pred');
    const args = ['--volume', vol, '--model', model, '--out', out, '--threads', '1', '--brick', '8,16,16'];
    // Ctrl-C as soon as the command listens for it: its own SIGINT handler is called (no signal is sent)
    const before = new Set(process.listeners('SIGINT'));
    const run = capture(() => predictMain(args)).catch((e: unknown) => e);
    let handler: (() => void) | undefined;
    for (let k = 0; k < 2000 && !handler; k++) {
      handler = process.listeners('SIGINT').find((l) => !before.has(l)) as (() => void) | undefined;
      if (!handler) await new Promise((r) => setTimeout(r, 10));
    }
    expect(handler).toBeDefined();
    handler!();
    const stopped = await run;
    expect(isPetromapError(stopped, 'Aborted'), String(stopped)).toBe(true);
    const said = (stopped as Error).message;
    const again = `petromap predict ${args.join(' ')}`;
    expect(said).toMatch(/^Interrupted; (no brick was finished yet|\d+ finished bricks? (is|are) kept in \S+)\. To resume where it stopped, run the same command again: /);
    expect(said.endsWith(again)).toBe(true);
    expect(said).not.toContain('\n'); // the CLI prints an error's first line

    // the command it names finishes the prediction
    const resumed = await capture(() => predictMain(again.split(' ').slice(2)));
    expect(resumed.code, resumed.err).toBe(0);
    const j = JSON.parse(resumed.out) as { bricksTotal: number; bricksDone: number; bricksSkipped: number };
    expect(j.bricksTotal).toBe(8);
    expect(j.bricksDone + j.bricksSkipped).toBe(j.bricksTotal);
  });

  it('counts the kept bricks and quotes what a shell would split', async () => {
    const out = join(tmp, "pred of 'B'");
    mkdirSync(join(out, 'bricks'), { recursive: true });
    for (const b of ['0_0_0', '0_0_1', '0_1_0']) writeFileSync(join(out, 'bricks', `${b}.done`), '{}');
    const argv = ['--volume', '/data/scan B.ome.zarr', '--model', 'm', '--out', out];
    const said = await interruptedMessage(argv, out, 'predicting');
    expect(said).toBe(`Interrupted; 3 finished bricks are kept in ${out}. To resume where it stopped, run the same command again: petromap predict --volume '/data/scan B.ome.zarr' --model m --out '${tmp}/pred of '\\''B'\\'''`);
    expect(await interruptedMessage(argv, out, 'exporting')).toMatch(/^Interrupted while exporting; the prediction in .* is complete\. To export, run the same command again/);
  });
});

describe('petromap predict: the --mirror none way out follows the refusal\'s reason', () => {
  const rec = { volume: 'scan-A.ome.zarr', shape: [16, 48, 48] as [number, number, number], spacingUm: [2, 2, 2] as [number, number, number], featureVersion: 1 };
  const refusal = () => {
    try {
      checkTrainedOn(rec, { shape: [32, 48, 48], spacingUm: [2, 2, 2] }, { targetName: 'scan-tall.ome.zarr', mirrors: true });
    } catch (err) {
      return err;
    }
    throw new Error('not refused');
  };

  it('the refusal carries its reason; reworded, it still gets the way out; another Conflict does not', () => {
    const err = refusal();
    expect(hasReason(err, 'model-mirrors-other-shape')).toBe(true);
    const reworded = new PetromapError('Conflict', 'Another wording of the same refusal.', { details: (err as PetromapError).details });
    const withWayOut = (() => { try { mirrorChoice('auto').refused(reworded); } catch (e) { return e as PetromapError; } })()!;
    expect(withWayOut.message).toMatch(/^Another wording of the same refusal\. Or, for a scan of the same rock at this voxel size: --mirror none/);
    expect(hasReason(withWayOut, 'model-mirrors-other-shape')).toBe(true);
    // a Conflict without the reason (even in the old words) is passed on as it is
    const other = new PetromapError('Conflict', 'The model mirrors the volume above something else.');
    expect(() => mirrorChoice('auto').refused(other)).toThrow(other);
    // other shapes are not refused without the mirror
    expect(() => checkTrainedOn(rec, { shape: [32, 48, 48], spacingUm: [2, 2, 2] }, { targetName: 'x', mirrors: false })).not.toThrow();
  });
});
