/**
 * Decompression bombs for the hostile-input cases: streams of zeros that inflate far beyond their
 * stored size. Written in pieces, so building one never holds the zeros at once.
 */
import { createDeflate, createGzip } from 'node:zlib';

/** A zlib (default) or gzip stream of `bytes` zero bytes. */
export async function deflatedZeros(bytes: number, kind: 'zlib' | 'gzip' = 'zlib'): Promise<Buffer> {
  const z = kind === 'gzip' ? createGzip({ level: 9 }) : createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  z.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise<void>((res, rej) => (z.on('end', () => res()), z.on('error', rej)));
  const piece = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; left -= piece.length) {
    if (!z.write(left >= piece.length ? piece : piece.subarray(0, left))) await new Promise((r) => z.once('drain', r));
  }
  z.end();
  await done;
  return Buffer.concat(parts);
}

/**
 * A zstd frame of `blocks` RLE blocks of 128 KiB zeros (4 bytes each), with or without its decoded
 * size in the frame header (`statedSize`: what the header claims).
 */
export function zstdZeros(blocks: number, statedSize?: bigint): Buffer {
  const head = statedSize === undefined ? Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]) : Buffer.alloc(13);
  if (statedSize !== undefined) {
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0]).copy(head); // single segment, 8-byte content size
    head.writeBigUInt64LE(statedSize, 5);
  }
  const body = Buffer.alloc(blocks * 4);
  for (let k = 0; k < blocks; k++) body.writeUIntLE(((1 << 17) << 3) | (1 << 1) | (k === blocks - 1 ? 1 : 0), k * 4, 3); // RLE block of 2^17 bytes; byte 4 = 0
  return Buffer.concat([head, body]);
}
