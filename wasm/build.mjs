// Compiles wasm/assembly/*.ts (AssemblyScript, SIMD) to wasm/build/*.wasm, and each a second time
// with relaxed SIMD to wasm/build/*-relaxed.wasm (fused multiply-adds in the MLP; chosen at load
// time by lib/features/kernels-wasm.ts when the runtime accepts it).
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
const builds = sources.flatMap((f) => [
  { f, name: f.slice(0, -3), features: 'simd' },
  { f, name: `${f.slice(0, -3)}-relaxed`, features: 'simd,relaxed-simd' },
]);
for (const { f, name, features } of builds) {
  const tmp = join(outDir, `${name}.${process.pid}.tmp.wasm`);
  const { error, stderr } = await asc.main(
    [
      join(srcDir, f),
      '--outFile', tmp,
      '--optimizeLevel', '3',
      '--shrinkLevel', '0',
      '--runtime', 'stub',
      '--enable', features,
      '--noAssert',
      '--initialMemory', '2',
      '--exportRuntime',
    ],
    {},
  );
  if (error) {
    failed = true;
    console.error(`wasm/build.mjs: compiling ${f} (${features}) failed: ${error.message}\n${stderr.toString()}`);
    continue;
  }
  renameSync(tmp, join(outDir, `${name}.wasm`));
  console.log(`wasm/build.mjs: built wasm/build/${name}.wasm`);
}
if (failed) process.exit(1);
