/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts, whose `run(args)` prints its figures.
 * With no name, runs every benchmark in turn. Benchmarks compare against the peers a user would
 * pick instead (scikit-image, scikit-learn, native elastix) in the same run and print ratios.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

async function main() {
  const [name, ...args] = process.argv.slice(2);
  const names = name ? [name] : available;
  for (const n of names) {
    if (!available.includes(n)) {
      console.error(`petromap bench: unknown benchmark "${n}"; available: ${available.join(', ')}`);
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
