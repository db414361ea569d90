// Worker-thread entry for heavy job steps. Plain JS, run by Node directly (never bundled by
// Next), so the lib/ code it loads through tsx keeps real file URLs: its own workers (elastix,
// feature and prediction pools) and wasm files resolve as they do in the CLI and the tests.
//
// Protocol (run-task.ts): in {type: 'run', id, task, args} / {type: 'abort', id}; out
// {type: 'ready'} once, then per call progress / event / done / error, each with the call's id.
// An error carries its tag (null when nobody tagged it: a bug), message, details and the
// message of its cause; run-task.ts rebuilds the PetromapError from them.
import { parentPort, workerData } from 'node:worker_threads';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

// Heavy work yields the CPU to the web server's event loop: on Linux a nice value belongs to the
// thread that sets it (os.setPriority without a pid = this thread), and the threads this one
// starts (prediction and feature pools) inherit it. Slices stay fast while a prediction runs.
try {
  os.setPriority(10);
} catch {
  /* not permitted here: run at normal priority */
}
register();
const tasks = await import(pathToFileURL(path.join(workerData.root, 'server', 'jobs', 'tasks.ts')).href);
const running = new Map();

/** details as plain JSON (a structured clone of arbitrary objects may throw) */
function plain(v) {
  if (v == null) return undefined;
  try {
    return JSON.parse(JSON.stringify(v));
  } catch {
    return undefined;
  }
}

function causeMessage(err) {
  const c = err?.cause;
  if (c == null) return undefined;
  return c instanceof Error ? c.message : typeof c === 'string' ? c : undefined;
}

parentPort.on('message', async (m) => {
  if (m.type === 'abort') return running.get(m.id)?.abort(new Error('cancelled'));
  if (m.type !== 'run') return;
  const { id } = m;
  const controller = new AbortController();
  running.set(id, controller);
  const fn = tasks[m.task];
  try {
    if (typeof fn !== 'function') throw new Error(`unknown task ${m.task}`);
    const result = await fn(m.args, {
      signal: controller.signal,
      onProgress: (fraction, message) => parentPort.postMessage({ type: 'progress', id, fraction, message }),
      onEvent: (event) => parentPort.postMessage({ type: 'event', id, event }),
    });
    parentPort.postMessage({ type: 'done', id, result });
  } catch (err) {
    parentPort.postMessage({
      type: 'error',
      id,
      tag: typeof err?._tag === 'string' ? err._tag : null,
      message: err instanceof Error ? err.message : String(err),
      details: plain(err?.details),
      cause: causeMessage(err),
      stack: err?.stack,
    });
  } finally {
    running.delete(id);
  }
});
parentPort.postMessage({ type: 'ready' });
