import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main as predictMain } from '../../../lib/cli/predict';
import { main as trainMain } from '../../../lib/cli/train';
import { main as runMain } from '../../../lib/cli/run';
import { isPetromapError } from '../../../lib/errors';
import { generateSandstone } from '../../../lib/synthetic';
import { writeSampleAtTruth } from './cli-session';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function capture(fn: () => Promise<number>): Promise<{ code: number; json: Record<string, unknown> }> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    const code = await fn();
    return { code, json: JSON.parse(lines.join('\n')) };
  } finally {
    spy.mockRestore();
  }
}

describe('petromap train / predict CLI', () => {
  it('trains from a registration file and predicts, printing JSON summaries', async () => {
    const sample = generateSandstone({ shape: [24, 64, 64], seed: 2, grainDiameterVox: 10 });
    const { vol, mapDir } = await writeSampleAtTruth(tmp, sample);
    writeFileSync(join(tmp, 'classes.json'), JSON.stringify([
      { code: 1, name: 'pore', minerals: ['Pore/Epoxy'] }, { code: 2, name: 'quartz', minerals: ['Quartz'] },
      { code: 3, name: 'feldspar', minerals: ['K-feldspar', 'Albite'] }, { code: 4, name: 'clay', minerals: ['Kaolinite', 'Illite'] },
      { code: 5, name: 'pyrite', minerals: ['Pyrite'] },
    ]));
    const model = join(tmp, 'model');
    const t = await capture(() => trainMain(['--volume', vol, '--eds', mapDir, '--registration', join(tmp, 'reg.json'), '--classes', join(tmp, 'classes.json'), '--epochs', '8', '--out', model]));
    expect(t.code).toBe(0);
    expect((t.json.classes as { name: string }[]).map((x) => x.name)).toContain('quartz');
    expect((t.json.validation as { accuracy: number }).accuracy).toBeGreaterThan(0.3);
    const p = await capture(() => predictMain(['--volume', vol, '--model', model, '--out', join(tmp, 'pred'), '--threads', '1', '--brick', '24,64,64', '--export', 'nrrd']));
    expect(p.code).toBe(0);
    expect(p.json.bricksTotal).toBe(1);
    expect(String(p.json.exported)).toMatch(/labels\.nrrd$/);
    expect(p.json.exports).toEqual([{ format: 'nrrd', path: p.json.exported, bytes: expect.any(Number) }]);
  });

  it('rejects bad options with a message that names them', async () => {
    const e1 = await trainMain(['--volume']).catch((e) => e);
    expect(isPetromapError(e1, 'InvalidInput')).toBe(true);
    expect(e1.message).toMatch(/--volume needs a value/);
    const e2 = await predictMain(['--volume', tmp, '--model', tmp, '--out', join(tmp, 'o'), '--brick', '4,4']).catch((e) => e);
    expect(e2.message).toMatch(/--brick must be three whole numbers/);
    const e2b = await predictMain(['--volume', join(tmp, 'x'), '--model', 'm', '--out', 'o']).catch((e) => e);
    expect(e2b.message).toMatch(/^--volume: the volume store .*x does not exist/);
    const e2c = await predictMain(['--volume', tmp, '--model', join(tmp, 'model'), '--out', join(tmp, 'pred')]).catch((e) => e);
    expect(isPetromapError(e2c, 'Conflict')).toBe(true);
    expect(e2c.message).toMatch(/lies inside the input .*never writes into its inputs/);
    const e3 = await runMain(['--volume', join(tmp, 'missing.nrrd'), '--eds', 'x', '--out', join(tmp, 'o')]).catch((e) => e);
    expect(e3.message).toMatch(/missing\.nrrd does not exist/);
    expect(existsSync(join(tmp, 'o'))).toBe(false);
  });
});
