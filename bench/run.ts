/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts, whose `run(args)` prints its figures.
 * With no name, runs every benchmark in turn. Benchmarks compare against the peers a user would
 * pick instead (scikit-image, scikit-learn, native elastix) in the same run and print ratios.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

/** Each benchmark's first doc-comment line (its usage), for `npm run bench -- --help`. */
function usage(): string {
  const lines = available.map((n) => {
    const head = readFileSync(join(here, `${n}.ts`), 'utf8').split('\n').slice(0, 12);
    const doc = head.map((l) => l.replace(/^\s*\/?\*+\/?\s?/, '').trim()).join(' ');
    const m = new RegExp(`\`npm run bench -- (${n}(?:\\s[^\`]*)?)\``).exec(doc);
    return `  ${m ? m[1].replace(/\s+/g, ' ') : n}`;
  });
  return [
    'npm run bench -- <name> [args]: one benchmark (each prints its figures, the peers beside petromap, and ratios);',
    'npm run bench: all of them in turn (hours on 2 cores). The benchmarks and their options:',
    ...lines,
  ].join('\n');
}

async function main() {
  const [name, ...args] = process.argv.slice(2);
  if (name === '--help' || name === '-h' || name === 'help' || name === 'list') {
    console.log(usage());
    return;
  }
  const names = name ? [name] : available;
  for (const n of names) {
    if (!available.includes(n)) {
      console.error(`petromap bench: unknown benchmark "${n}"; \n${usage()}`);
      process.exitCode = 1;
      return;
    }
    console.log(`\n=== bench ${n} ===`);
    const mod = (await import(pathToFileURL(join(here, `${n}.ts`)).href)) as { run: (a: string[]) => Promise<void> };
    await mod.run(args);
  }
}

main().catch((err) => {
  console.error(`petromap bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
