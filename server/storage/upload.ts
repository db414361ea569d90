/**
 * Stream a request body to a file under the workspace's tmp/ without holding it in memory,
 * refusing it when it grows past the size limit or the disk would fill.
 */
import { createWriteStream } from 'node:fs';
import { rm, statfs } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { PetromapError, invalidInput } from '@/lib/errors';

const gb = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GB`;

export async function streamToFile(body: ReadableStream<Uint8Array> | null, dest: string, opts: { maxBytes: number; declaredBytes?: number; name: string; signal?: AbortSignal }): Promise<number> {
  if (!body) throw invalidInput(`${opts.name}: the upload is empty.`);
  if (opts.declaredBytes !== undefined && opts.declaredBytes > opts.maxBytes) {
    throw invalidInput(`${opts.name} is ${gb(opts.declaredBytes)}, above this server's upload limit of ${gb(opts.maxBytes)} (PETROMAP_MAX_UPLOAD_GB).`);
  }
  if (opts.declaredBytes !== undefined) {
    const fs = await statfs(dest.replace(/[^/]+$/, ''));
    const free = fs.bavail * fs.bsize;
    if (opts.declaredBytes * 2.2 > free) {
      throw new PetromapError('DiskFull', `${opts.name} (${gb(opts.declaredBytes)}) does not fit: importing it needs about ${gb(opts.declaredBytes * 2.2)} and the workspace disk has ${gb(free)} free. Free some space or move PETROMAP_DATA.`);
    }
  }
  // a Content-Length that is not a whole number (the HTTP server refuses those) is not held against the body
  const declared = Number.isSafeInteger(opts.declaredBytes) && opts.declaredBytes! >= 0 ? opts.declaredBytes : undefined;
  let n = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > opts.maxBytes) cb(invalidInput(`${opts.name} is larger than this server's upload limit of ${gb(opts.maxBytes)} (PETROMAP_MAX_UPLOAD_GB).`));
      else if (declared !== undefined && n > declared) cb(invalidInput(`${opts.name}: the upload sent more than the ${declared.toLocaleString('en')} bytes its Content-Length announced; nothing was stored. Upload it again.`));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>), limit, createWriteStream(dest), { signal: opts.signal });
  } catch (err) {
    await rm(dest, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw new PetromapError('DiskFull', `The workspace disk filled up while receiving ${opts.name}; nothing was stored.`);
    throw err;
  }
  if (n === 0) {
    await rm(dest, { force: true });
    throw invalidInput(`${opts.name} is empty (0 bytes).`);
  }
  if (declared !== undefined && n < declared) {
    // the body ended early without an error (a proxy or client that closed its side): a truncated file is not imported
    await rm(dest, { force: true });
    throw invalidInput(`${opts.name}: the upload stopped after ${n.toLocaleString('en')} of ${declared.toLocaleString('en')} bytes; nothing was stored. Upload it again.`);
  }
  return n;
}
