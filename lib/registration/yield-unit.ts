/**
 * Between two units of synchronous work on the thread that owns a job's AbortSignal: wait one turn
 * of the event loop (so a Cancel, a timer or a worker's message can run), then stop if the signal
 * fired. Without the turn, an abort that arrives while the work runs is seen only after all of it.
 */
import { throwIfAborted } from '../errors';

/** Wait one turn of the event loop: an abort, a timer or a message to this thread can run. */
export const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function nextUnit(signal?: AbortSignal): Promise<void> {
  await nextTurn();
  throwIfAborted(signal);
}
