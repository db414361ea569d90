// Compiles wasm/assembly/*.ts (AssemblyScript, SIMD) to wasm/build/*.wasm.
// Run by `npm install` / `npm ci` (postinstall) and `npm run build:wasm`; works offline.
// Exits 0 with a warning when the AssemblyScript compiler is not installed (production installs
// without devDependencies); lib/features/kernels-wasm.ts then says what to run.
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'assembly');
const outDir = join(here, 'build');

let asc;
try {
  asc = (await import('assemblyscript/asc')).default;
} catch {
  console.warn('wasm/build.mjs: the AssemblyScript compiler (devDependency "assemblyscript") is not installed; wasm kernels not built.');
  process.exit(0);
}

mkdirSync(outDir, { recursive: true });
const sources = readdirSync(srcDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
let failed = false;
for (const f of sources) {
  const name = f.slice(0, -3);
  const tmp = join(outDir, `${name}.${process.pid}.tmp.wasm`);
  const { error, stderr } = await asc.main(
    [
      join(srcDir, f),
      '--outFile', tmp,
      '--optimizeLevel', '3',
      '--shrinkLevel', '0',
      '--runtime', 'stub',
      '--enable', 'simd',
      '--noAssert',
      '--initialMemory', '2',
      '--exportRuntime',
    ],
    {},
  );
  if (error) {
    failed = true;
    console.error(`wasm/build.mjs: compiling ${f} failed: ${error.message}\n${stderr.toString()}`);
    continue;
  }
  renameSync(tmp, join(outDir, `${name}.wasm`));
  console.log(`wasm/build.mjs: built wasm/build/${name}.wasm`);
}
if (failed) process.exit(1);
