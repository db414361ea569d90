/**
 * TF.js in Node: the wasm backend (one thread per engine), initialised once per thread.
 * `getTf()` returns the tfjs-core namespace with the wasm backend active; layers come from
 * `@tensorflow/tfjs-layers` (same core instance).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { PetromapError } from '../errors';

let ready: Promise<typeof tf> | null = null;

/** Absolute folder (trailing slash) of the tfjs-backend-wasm .wasm binaries. */
export function wasmDir(): string {
  const req = createRequire(import.meta.url);
  const pkg = req.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return join(dirname(pkg), 'dist') + '/';
}

export function getTf(): Promise<typeof tf> {
  if (!ready) {
    ready = (async () => {
      setWasmPaths(wasmDir());
      const ok = await tf.setBackend('wasm');
      if (!ok) throw new PetromapError('Unsupported', 'TF.js could not start its WebAssembly backend (tfjs-backend-wasm); reinstall node_modules.');
      await tf.ready();
      return tf;
    })().catch((err) => {
      ready = null;
      throw err;
    });
  }
  return ready;
}
