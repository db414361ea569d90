/**
 * Running the fuzzer's inputs (bench/fuzz.ts): each in a child process through the security harness,
 * judged against the targets; the hostile cases loaded from tests/security/cases-*.ts; the summary
 * table and the saving of a missing mutant with the command that reproduces it.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bytesUnder, RSS_LIMIT_MIB, runCaseInChild, scratch, type CaseKind, type CaseRun, type HostileCase } from '../tests/security/harness';
import { writeInput, type Mutant } from './_fuzz-seeds';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const OUT_DIR = join(here, 'out', 'fuzz');

export interface Outcome {
  source: 'case' | 'seed' | 'mutant';
  kind: CaseKind;
  label: string;
  run: CaseRun;
  leftover: number;
  /** hostile case: the message did not match its `expect` */
  unexpectedMessage?: boolean;
  /** what the target misses are (empty = fine) */
  misses: string[];
  mutant?: Mutant;
}

export function judge(o: Omit<Outcome, 'misses'>, mustRefuse: boolean): Outcome {
  const misses: string[] = [];
  if (o.run.crashed) misses.push('crashed');
  if (!(o.run.peakRssMiB < RSS_LIMIT_MIB) && !o.run.crashed) misses.push(`peak RSS ${o.run.peakRssMiB} MiB`);
  if (!o.run.ok && o.leftover > 0) misses.push(`${o.leftover} bytes left behind`);
  if (mustRefuse && o.run.ok) misses.push('accepted, should be refused');
  if (o.source === 'seed' && !o.run.ok) misses.push('valid seed input refused (the fuzzer mutates a broken input)');
  return { ...o, misses };
}

export async function runOne(kind: CaseKind, make: (dir: string) => Promise<string>, timeoutMs: number, env?: Record<string, string>): Promise<{ run: CaseRun; leftover: number }> {
  const box = await scratch('petromap-fuzz-');
  try {
    const input = await make(box.input);
    // the child inherits process.env at spawn, which happens synchronously inside runCaseInChild
    const saved: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(env ?? {})) (saved[k] = process.env[k]), (process.env[k] = v);
    let pending: Promise<CaseRun>;
    try {
      pending = runCaseInChild(kind, input, box.out, timeoutMs);
    } finally {
      for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
    }
    const run = await pending;
    return { run, leftover: run.ok ? 0 : await bytesUnder(box.out) };
  } finally {
    await box.dispose();
  }
}

export async function pool<T>(tasks: (() => Promise<T>)[], parallel: number, onDone: (r: T, i: number) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      onDone(await tasks[i]!(), i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, tasks.length) }, worker));
}

export async function loadCases(): Promise<{ cases: (HostileCase & { env?: Record<string, string> })[]; notes: string[] }> {
  const files: [string, string][] = [
    ['tests/security/cases-volume.ts', 'volumeCases'],
    ['tests/security/cases-eds.ts', 'edsCases'],
    ['tests/security/cases-zip.ts', 'zipCases'],
    ['tests/security/cases-readers.ts', 'readerCases'],
    ['tests/security/cases-eds-readers.ts', 'edsReaderCases'],
    ['tests/security/cases-links.ts', 'linkCases'],
    ['tests/security/cases-store.ts', 'storeCases'],
    ['tests/security/cases-store-damage.ts', 'storeDamageCases'],
  ];
  const cases: (HostileCase & { env?: Record<string, string> })[] = [];
  const notes: string[] = [];
  for (const [file, name] of files) {
    const p = join(root, file);
    if (!existsSync(p)) {
      notes.push(`${file} does not exist yet: skipped`);
      continue;
    }
    try {
      const mod = (await import(pathToFileURL(p).href)) as Record<string, unknown>;
      const list = mod[name];
      if (!Array.isArray(list)) {
        notes.push(`${file} has no export ${name} yet: skipped`);
        continue;
      }
      cases.push(...(list as HostileCase[]));
      notes.push(`${file}: ${list.length} cases`);
    } catch (err) {
      notes.push(`${file} could not be loaded (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): skipped`);
    }
  }
  return { cases, notes };
}

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const pad = (s: string | number, n: number) => String(s).padStart(n);
export const short = (s: string, n = 140) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function table(title: string, outs: Outcome[]): void {
  if (!outs.length) return;
  console.log(`\n${title}`);
  console.log(`  ${'kind'.padEnd(8)}${pad('tried', 7)}${pad('accepted', 10)}${pad('refused', 9)}${pad('crashed', 9)}${pad('leftover B', 12)}${pad('max RSS MiB', 13)}${pad('median s', 10)}`);
  const kinds = [...new Set(outs.map((o) => o.kind))];
  for (const k of [...kinds, 'all']) {
    const xs = k === 'all' ? outs : outs.filter((o) => o.kind === k);
    const rss = xs.map((o) => o.run.peakRssMiB).filter((v) => Number.isFinite(v));
    console.log(
      `  ${k.padEnd(8)}${pad(xs.length, 7)}${pad(xs.filter((o) => o.run.ok).length, 10)}${pad(xs.filter((o) => !o.run.ok && !o.run.crashed).length, 9)}` +
        `${pad(xs.filter((o) => o.run.crashed).length, 9)}${pad(xs.reduce((s, o) => s + o.leftover, 0), 12)}${pad(rss.length ? Math.max(...rss) : '-', 13)}${pad(median(xs.map((o) => o.run.seconds)).toFixed(2), 10)}`,
    );
  }
}

export async function saveMutant(o: Outcome, seed: number): Promise<string> {
  const m = o.mutant!;
  const dir = join(OUT_DIR, `seed${seed}-it${m.iteration}-${m.seedName}`);
  await writeInput(join(dir, 'input'), m);
  const info = {
    reproduce: `npm run bench -- fuzz --seed ${seed} --only ${m.iteration}`,
    kind: m.kind,
    seedInput: m.seedName,
    entry: m.entry ? `input/${m.entry}` : 'input/',
    mutatedFile: m.target,
    mutation: m.desc,
    misses: o.misses,
    result: o.run,
  };
  await writeFile(join(dir, 'info.json'), JSON.stringify(info, null, 2) + '\n');
  return dir;
}
