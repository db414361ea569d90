/**
 * Server settings from the environment, validated once. PETROMAP_DATA is the workspace folder
 * (SQLite database + chunked volumes); uploads above PETROMAP_MAX_UPLOAD_GB are refused.
 */
import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  PETROMAP_DATA: z.string().min(1).default('./data'),
  PETROMAP_MAX_UPLOAD_GB: z.coerce.number().positive().default(64),
  /** set to 1 to skip creating the demo project on first start */
  PETROMAP_NO_DEMO: z.enum(['0', '1']).default('0'),
});

export interface ServerEnv {
  dataDir: string;
  maxUploadBytes: number;
  demo: boolean;
}

let cached: ServerEnv | undefined;

export function serverEnv(): ServerEnv {
  if (cached) return cached;
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`petromap: invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  cached = {
    dataDir: path.resolve(e.PETROMAP_DATA),
    maxUploadBytes: Math.round(e.PETROMAP_MAX_UPLOAD_GB * 1024 ** 3),
    demo: e.PETROMAP_NO_DEMO !== '1',
  };
  return cached;
}
