/**
 * One error class per failure mode. Each has a literal `_tag`, a message a mineralogist can act on
 * (it names the file or dataset and the problem), and optional `cause`.
 * Guard with `isPetromapError(err, 'InvalidInput')`.
 */
export type PetromapErrorTag =
  | 'InvalidInput' // malformed file or parameters: the user must fix the input
  | 'Unprocessable' // valid input we cannot use (no overlap, no air above sample, ...)
  | 'NotFound'
  | 'Unsupported'
  | 'Aborted'
  | 'Conflict' // wrong state (job already running, ...)
  | 'DiskFull'
  | 'Internal'; // a bug: an error nobody tagged (never shown as the user's fault)

export class PetromapError extends Error {
  readonly _tag: PetromapErrorTag;
  readonly details?: Record<string, unknown>;
  constructor(tag: PetromapErrorTag, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { cause: opts.cause });
    this._tag = tag;
    this.details = opts.details;
    this.name = `PetromapError(${tag})`;
  }
}

export const invalidInput = (message: string, opts?: { cause?: unknown; details?: Record<string, unknown> }) =>
  new PetromapError('InvalidInput', message, opts);
export const unprocessable = (message: string, opts?: { cause?: unknown; details?: Record<string, unknown> }) =>
  new PetromapError('Unprocessable', message, opts);
export const notFound = (message: string) => new PetromapError('NotFound', message);
export const unsupported = (message: string) => new PetromapError('Unsupported', message);

export function isPetromapError(err: unknown, tag?: PetromapErrorTag): err is PetromapError {
  return err instanceof PetromapError && (tag === undefined || err._tag === tag);
}

/**
 * Why a refusal was made, in `details.reason`, for the refusals a caller answers with a way out of
 * its own: matched with `hasReason`, never by the message's words (which get reworded).
 *   model-mirrors-other-shape: a model that mirrors the volume above its training scan's surface
 *   refuses a scan of another shape (lib/classify/trained-on.ts; `petromap predict` adds --mirror none).
 */
export type PetromapReason = 'model-mirrors-other-shape';

export function hasReason(err: unknown, reason: PetromapReason): err is PetromapError {
  return err instanceof PetromapError && err.details?.reason === reason;
}

/** Throws a PetromapError('Aborted') if the signal is aborted. Call at every await / loop step. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new PetromapError('Aborted', 'The operation was cancelled.', { cause: signal.reason });
}

/** Progress callback: fraction in [0, 1] and a short human message. */
export type OnProgress = (fraction: number, message?: string) => void;

export interface StageOptions {
  signal?: AbortSignal;
  onProgress?: OnProgress;
}
