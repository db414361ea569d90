/** Messages between a pool (pool-node.ts) and its workers (serve-node.ts). */
import type { PetromapErrorTag } from '../errors';

export interface JobMessage<Req> {
  id: number;
  req: Req;
}

export type WorkerMessage<Res> =
  | { id: number; type: 'progress'; fraction: number; message?: string }
  | { id: number; type: 'done'; result: Res }
  | { id: number; type: 'error'; tag?: PetromapErrorTag; message: string; details?: Record<string, unknown> }
  | { type: 'ready' };
