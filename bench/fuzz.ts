/**
 * `npm run bench -- fuzz [--seed N] [--iterations N] [--parallel N] [--timeout S] [--only I]
 *                         [--cases-only | --mutants-only]`
 *
 * Issue 12 acceptance: hostile input hurts nothing. Two parts, each input imported in a child
 * process through tests/security/harness.ts runCaseInChild (the product's import, peak RSS of the
 * child measured):
 *  1. every hostile case of tests/security/cases-*.ts (volume, eds, zip; a file that does not exist
 *     yet is skipped with a note) — each must be refused on purpose;
 *  2. a seeded, reproducible mutation fuzzer: small VALID inputs (multi-page TIFF, deflate TIFF,
 *     NRRD header + raw, gzip NRRD, MHA, NIfTI, EDS colour map + legend (PNG and TIFF), a TESCAN
 *     TIMA export, a zip of a TIFF stack) mutated by bit flips, extreme integers at header offsets,
 *     truncation, duplication and structure-aware field rewrites (TIFF tags, NIfTI fields, PNG IHDR
 *     with a fixed CRC, zip directory fields and entry names, header lines like huge sizes, negative
 *     offsets, `../../etc/passwd`). Mutant i depends only on (seed, i): `--seed S --only i` reruns it.
 *     A mutant may import fine (accepted).
 * Targets: 0 crashes (untagged error, dead or hung child), 0 bytes left behind by a refused input,
 * peak RSS < 512 MiB for every input, and every hostile case refused. Exit code 1 when one is missed.
 * Crashing mutants are saved under bench/out/fuzz/ with the command that reproduces them.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCleanMessage, RSS_LIMIT_MIB, type CaseRun } from '../tests/security/harness';
import { makeMutant } from './_fuzz-mutant';
import { judge, loadCases, pad, pool, runOne, saveMutant, short, table, type Outcome } from './_fuzz-run';
import { seedInputs, writeInput } from './_fuzz-seeds';

// the fuzzer's parts, for tests/security/fuzz-smoke.test.ts
export { makeMutant } from './_fuzz-mutant';
export { Rng, seedInputs, writeInput, type Mutant, type SeedInput } from './_fuzz-seeds';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args: string[]): Promise<void> {
  const seed = Number(arg(args, 'seed') ?? 1);
  const iterations = Number(arg(args, 'iterations') ?? 200);
  const parallel = Math.max(1, Number(arg(args, 'parallel') ?? 2));
  const timeoutMs = 1000 * Number(arg(args, 'timeout') ?? 60);
  const only = arg(args, 'only');
  // --only picks one mutant: with --cases-only nothing would run, and "0 tried, targets met" said nothing
  if (only !== undefined && args.includes('--cases-only')) throw new Error('--only I reruns mutant I, and --cases-only runs no mutant: give one of them.');
  const doCases = !args.includes('--mutants-only') && only === undefined;
  const doMutants = !args.includes('--cases-only');
  const t0 = Date.now();

  const tasks: (() => Promise<Outcome>)[] = [];
  if (doCases) {
    const { cases, notes } = await loadCases();
    console.log(`hostile cases: ${notes.join('; ')}`);
    for (const c of cases) {
      tasks.push(async () => {
        const label = `item ${c.item}: ${c.name}`;
        try {
          const { run, leftover } = await runOne(c.kind, c.make, 120_000, c.env);
          const unexpectedMessage = !run.ok && !run.crashed && !c.expect.test(run.error);
          return judge({ source: 'case', kind: c.kind, label, run, leftover, unexpectedMessage }, true);
        } catch (err) {
          const run: CaseRun = { ok: false, crashed: true, error: `could not write the case's input: ${err instanceof Error ? err.message : String(err)}`, peakRssMiB: NaN, seconds: 0 };
          return judge({ source: 'case', kind: c.kind, label, run, leftover: 0 }, true);
        }
      });
    }
  }
  const seeds = doMutants ? await seedInputs() : [];
  if (doMutants) {
    const iters = only !== undefined ? [Number(only)] : Array.from({ length: iterations }, (_, i) => i);
    console.log(`mutation fuzzer: seed ${seed}, ${iters.length} mutant(s) of ${seeds.length} valid inputs (${seeds.map((s) => s.name).join(', ')}), ${parallel} at a time, ${timeoutMs / 1000} s timeout`);
    if (only === undefined) {
      for (const s of seeds) {
        tasks.push(async () => {
          const { run, leftover } = await runOne(s.kind, (dir) => writeInput(dir, s), timeoutMs);
          return judge({ source: 'seed', kind: s.kind, label: `valid input ${s.name}`, run, leftover }, false);
        });
      }
    }
    for (const i of iters) {
      tasks.push(async () => {
        const m = makeMutant(seeds, seed, i);
        const { run, leftover } = await runOne(m.kind, (dir) => writeInput(dir, m), timeoutMs);
        return judge({ source: 'mutant', kind: m.kind, label: `#${i} ${m.seedName} ${m.target}: ${m.desc}`, run, leftover, mutant: m }, false);
      });
    }
  }

  const outcomes: Outcome[] = [];
  let done = 0;
  await pool(tasks, parallel, (o) => {
    outcomes.push(o);
    done++;
    if (o.misses.length) console.log(`  MISS ${o.source} ${short(o.label)}: ${o.misses.join(', ')}; ${short(o.run.error || 'ok', 300)}`);
    if (only !== undefined) console.log(`  ${o.label}\n  -> ${o.run.ok ? 'accepted' : o.run.crashed ? 'CRASHED' : `refused [${o.run.tag}]`} ${o.run.error} (peak RSS ${o.run.peakRssMiB} MiB, ${o.run.seconds.toFixed(2)} s)`);
    else if (done % 25 === 0 || done === tasks.length) console.log(`  … ${done}/${tasks.length} done (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  });

  const cases = outcomes.filter((o) => o.source === 'case');
  const seedRuns = outcomes.filter((o) => o.source === 'seed');
  const mutants = outcomes.filter((o) => o.source === 'mutant');
  table('hostile cases (each must be refused)', cases);
  if (seedRuns.length) console.log(`\nvalid seed inputs: ${seedRuns.filter((o) => o.run.ok).length} of ${seedRuns.length} import fine${seedRuns.some((o) => !o.run.ok) ? ` (refused: ${seedRuns.filter((o) => !o.run.ok).map((o) => `${o.label}: ${o.run.error}`).join('; ')})` : ''}`);
  table(`mutants (seed ${seed})`, mutants);
  if (mutants.length > 1) {
    const names = [...new Set(mutants.map((o) => o.mutant!.seedName))];
    console.log(`  by valid input (mutants, accepted): ${names.map((n) => `${n} ${mutants.filter((o) => o.mutant!.seedName === n).length}/${mutants.filter((o) => o.mutant!.seedName === n && o.run.ok).length}`).join(', ')}`);
  }

  // worst cases and misses
  const all = outcomes;
  const byRss = [...all].filter((o) => Number.isFinite(o.run.peakRssMiB)).sort((a, b) => b.run.peakRssMiB - a.run.peakRssMiB).slice(0, 5);
  const bySeconds = [...all].sort((a, b) => b.run.seconds - a.run.seconds).slice(0, 5);
  console.log('\nworst peak RSS:');
  for (const o of byRss) console.log(`  ${pad(o.run.peakRssMiB, 5)} MiB  ${o.kind.padEnd(6)} ${short(o.label, 120)} -> ${o.run.ok ? 'accepted' : 'refused'}`);
  console.log('slowest:');
  for (const o of bySeconds) console.log(`  ${o.run.seconds.toFixed(2).padStart(6)} s  ${o.kind.padEnd(6)} ${short(o.label, 120)} -> ${o.run.ok ? 'accepted' : o.run.crashed ? 'crashed' : 'refused'}`);
  const unexpected = cases.filter((o) => o.unexpectedMessage);
  if (unexpected.length) {
    console.log(`hostile cases refused with another message than their test expects (${unexpected.length}):`);
    for (const o of unexpected) console.log(`  ${short(o.label, 100)}: ${short(o.run.error, 200)}`);
  }
  const unclean = all.filter((o) => !o.run.ok && !o.run.crashed && !isCleanMessage(o.run.error));
  if (unclean.length) {
    console.log(`refusals whose message is not one clean line (${unclean.length}):`);
    for (const o of unclean.slice(0, 10)) console.log(`  ${short(o.label, 100)}: ${short(o.run.error, 200)}`);
  }
  const misses = all.filter((o) => o.misses.length);
  if (misses.length) {
    console.log(`\nMISSED TARGETS (${misses.length}):`);
    for (const o of misses) {
      let where = '';
      if (o.mutant) where = ` | saved in ${(await saveMutant(o, seed)).slice(root.length + 1)}; rerun: npm run bench -- fuzz --seed ${seed} --only ${o.mutant.iteration}`;
      console.log(`  [${o.kind}] ${o.source} ${short(o.label, 200)}: ${o.misses.join(', ')}; error: ${short(o.run.error, 300)}${where}`);
    }
  }

  const rss = all.map((o) => o.run.peakRssMiB).filter((v) => Number.isFinite(v));
  const crashed = all.filter((o) => o.run.crashed).length;
  const leftover = all.reduce((s, o) => s + o.leftover, 0);
  const peak = rss.length ? Math.max(...rss) : NaN;
  console.log(
    `\nTOTAL: ${all.length} tried (${cases.length} hostile cases, ${seedRuns.length} valid inputs, ${mutants.length} mutants), ` +
      `${all.filter((o) => o.run.ok).length} accepted, ${all.filter((o) => !o.run.ok && !o.run.crashed).length} refused, ${crashed} crashed, ` +
      `${leftover} leftover bytes, peak RSS ${peak} MiB (limit ${RSS_LIMIT_MIB}), ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  const ok = misses.length === 0;
  console.log(ok ? 'targets met: 0 crashes, 0 leftover bytes, peak RSS under 512 MiB, every hostile case refused' : `targets MISSED by ${misses.length} input(s) (listed above)`);
  if (!ok) process.exitCode = 1;
}
