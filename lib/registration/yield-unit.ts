/**
 * Between two units of synchronous work on the thread that owns a job's AbortSignal: wait one turn
 * of the event loop (so a Cancel, a timer or a worker's message can run), then stop if the signal
 * fired. Without the turn, an abort that arrives while the work runs is seen only after all of it.
 */
import { throwIfAborted } from '../errors';

export async function nextUnit(signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  throwIfAborted(signal);
}
