// Worker-thread entry for heavy job steps. Plain JS, run by Node directly (never bundled by
// Next), so the lib/ code it loads through tsx keeps real file URLs: its own workers (elastix,
// feature and prediction pools) and wasm files resolve as they do in the CLI and the tests.
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const tasks = await import(pathToFileURL(path.join(workerData.root, 'server', 'jobs', 'tasks.ts')).href);
const controller = new AbortController();

parentPort.on('message', async (m) => {
  if (m.type === 'abort') return controller.abort(new Error('cancelled'));
  if (m.type !== 'run') return;
  const fn = tasks[m.task];
  try {
    if (typeof fn !== 'function') throw new Error(`unknown task ${m.task}`);
    const result = await fn(m.args, {
      signal: controller.signal,
      onProgress: (fraction, message) => parentPort.postMessage({ type: 'progress', fraction, message }),
      onEvent: (event) => parentPort.postMessage({ type: 'event', event }),
    });
    parentPort.postMessage({ type: 'done', result });
  } catch (err) {
    parentPort.postMessage({ type: 'error', tag: err?._tag ?? null, message: err instanceof Error ? err.message : String(err), stack: err?.stack });
  }
});
parentPort.postMessage({ type: 'ready' });
