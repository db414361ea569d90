/**
 * Smoke test of the fuzz benchmark (bench/fuzz.ts, issue 12): its mutants are reproducible from
 * (seed, iteration), the valid inputs it mutates really import (otherwise it only fuzzes the first
 * check that refuses a broken file), and a handful of mutants neither crash, nor exceed the memory
 * budget, nor leave anything behind when refused. The full run is `npm run bench -- fuzz`.
 */
import { describe, expect, it } from 'vitest';
import { makeMutant, seedInputs, writeInput, type SeedInput } from '../../bench/fuzz';
import { bytesUnder, RSS_LIMIT_MIB, runCaseInChild, scratch } from './harness';

let seeds: SeedInput[];
const getSeeds = async () => (seeds ??= await seedInputs());

describe('fuzz benchmark', () => {
  it('builds the same mutant from the same seed and iteration, different ones otherwise', async () => {
    const s = await getSeeds();
    expect(s.map((x) => x.kind)).toEqual(expect.arrayContaining(['volume', 'eds']));
    const descs = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const a = makeMutant(s, 7, i);
      const b = makeMutant(await seedInputs(), 7, i);
      expect(b.desc).toBe(a.desc);
      expect(b.files.map((f) => f.bytes.toString('base64'))).toEqual(a.files.map((f) => f.bytes.toString('base64')));
      descs.add(`${a.seedName} ${a.desc}`);
    }
    expect(descs.size).toBeGreaterThan(30);
    expect(makeMutant(s, 8, 0).desc + makeMutant(s, 8, 1).desc).not.toBe(makeMutant(s, 7, 0).desc + makeMutant(s, 7, 1).desc);
  });

  it('every valid input it mutates imports fine', async () => {
    for (const seed of await getSeeds()) {
      const box = await scratch('petromap-fuzz-smoke-');
      try {
        const r = await runCaseInChild(seed.kind, await writeInput(box.input, seed), box.out);
        expect(r.error, seed.name).toBe('');
        expect(r.ok, seed.name).toBe(true);
      } finally {
        await box.dispose();
      }
    }
  });

  it('a few mutants: no crash, bounded memory, nothing left behind when refused', async () => {
    const s = await getSeeds();
    for (let i = 0; i < 6; i++) {
      const m = makeMutant(s, 1, i);
      const box = await scratch('petromap-fuzz-smoke-');
      try {
        const r = await runCaseInChild(m.kind, await writeInput(box.input, m), box.out);
        const what = `mutant ${i} (${m.seedName}: ${m.desc}): ${r.error}`;
        expect(r.crashed, what).toBe(false);
        expect(r.peakRssMiB, what).toBeLessThan(RSS_LIMIT_MIB);
        if (!r.ok) expect(await bytesUnder(box.out), what).toBe(0);
      } finally {
        await box.dispose();
      }
    }
  });
});
