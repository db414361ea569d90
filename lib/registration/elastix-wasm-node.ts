/**
 * ITK-Wasm elastix kept loaded between calls (Node). `elastixNode` of @itk-wasm/elastix reads,
 * zstd-decodes and instantiates its 16 MB wasm module on every call: about 330 ms of CPU per call
 * warm and 830 ms for the first (measured on this 2-core machine, docs/registration-speed.md),
 * which is a third of a native elastix run on a 192² slab. Here the Emscripten module is
 * instantiated once per thread and each registration is one more `callMain` on it, which is how
 * itk-wasm's own browser path (`runPipeline` without a web worker) reuses its modules.
 *
 * It reaches itk-wasm's internal module loader and `runPipelineEmscripten` (the argument and memory
 * marshalling) by their file paths, as the package exports only the per-call `runPipelineNode`. When that file is not where
 * this version of itk-wasm keeps it, or the module fails, it falls back to `elastixNode`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Image, JsonCompatible } from 'itk-wasm';

export interface ElastixInputs { fixed: Image; moving: Image }
export interface ElastixResult { transformParameterObject: JsonCompatible }

type PipelineModule = { callMain: (args: string[]) => number };
type RunPipeline = (m: PipelineModule, args: string[], outputs: { type: string }[], inputs: { type: string; data: unknown }[]) =>
  { returnValue: number; stderr: string; outputs: { type: string; data: unknown }[] };

let warm: Promise<{ module: PipelineModule; run: RunPipeline } | null> | undefined;
/** Milliseconds the one-off load took in this thread (0 until loaded), for benchmarks that report it apart. */
export let elastixLoadMs = 0;

async function load(): Promise<{ module: PipelineModule; run: RunPipeline } | null> {
  const t0 = performance.now();
  try {
    const require = createRequire(import.meta.url);
    const itk = dirname(require.resolve(/* turbopackIgnore: true */ 'itk-wasm')); // .../itk-wasm/dist/index-node.js
    const elastixDir = dirname(require.resolve(/* turbopackIgnore: true */ '@itk-wasm/elastix'));
    const pipelines = join(elastixDir, 'pipelines');
    const internal = (f: string) => import(/* webpackIgnore: true */ /* @vite-ignore */ pathToFileURL(join(itk, 'pipeline', 'internal', f)).href);
    const run = (await internal('run-pipeline-emscripten.js')).default as RunPipeline;
    const loadModule = (await internal('load-emscripten-module-node.js')).default as (path: string) => Promise<PipelineModule>;
    const module = await loadModule(join(pipelines, 'elastix'));
    elastixLoadMs = performance.now() - t0;
    return { module, run };
  } catch {
    return null;
  }
}

/** Load the module now (once per thread); false when only the per-call fallback is available. */
export async function loadElastix(): Promise<boolean> {
  warm ??= load();
  return !!(await warm);
}

/** elastix on a fixed/moving pair with one parameter map per stage (same as `elastixNode` with `fixed` and `moving`). */
export async function elastixWarm(parameterObject: JsonCompatible, images: ElastixInputs): Promise<ElastixResult> {
  warm ??= load();
  const w = await warm;
  if (!w) {
    const { elastixNode } = await import('@itk-wasm/elastix');
    const r = await elastixNode(parameterObject, images);
    return { transformParameterObject: r.transformParameterObject };
  }
  const { InterfaceTypes } = await import('itk-wasm');
  // the argument layout of @itk-wasm/elastix's elastixNode (its generated wrapper)
  const args = ['0', '0', '1', '2', '--memory-io', '--fixed', '1', '--moving', '2'];
  let r: ReturnType<RunPipeline>;
  try {
    r = w.run(w.module, args,
      [{ type: InterfaceTypes.Image }, { type: InterfaceTypes.TransformList }, { type: InterfaceTypes.JsonCompatible }],
      [{ type: InterfaceTypes.JsonCompatible, data: parameterObject }, { type: InterfaceTypes.Image, data: images.fixed }, { type: InterfaceTypes.Image, data: images.moving }]);
  } catch (err) {
    warm = undefined; // an exception inside the module may leave it unusable: load afresh next time
    throw err;
  }
  if (r.returnValue !== 0) throw new Error(r.stderr || `elastix returned ${r.returnValue}`);
  return { transformParameterObject: r.outputs[2]?.data as JsonCompatible };
}
