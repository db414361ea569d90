// XXH64's stripe loop for zstd's frame content checksum (lib/volume/zarr/zstd-checksum.ts, which
// does the rest of the hash and falls back to a JavaScript loop when this is not built).
// Compiled by wasm/build.mjs; the caller places the four lanes and the stripes in linear memory
// from heapBase() (growing it as needed). No allocation happens here.

const P1: u64 = 0x9e3779b185ebca87;
const P2: u64 = 0xc2b2ae3d27d4eb4f;

/** First free byte after the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * XXH64's four lanes, read from `lanes` (4 x u64, little-endian), updated with the 32-byte stripes
 * at [p, end) (end - p a multiple of 32) and written back: v = rotl(v + input * P2, 31) * P1.
 */
export function stripes(lanes: usize, p: usize, end: usize): void {
  let v1 = load<u64>(lanes, 0);
  let v2 = load<u64>(lanes, 8);
  let v3 = load<u64>(lanes, 16);
  let v4 = load<u64>(lanes, 24);
  while (p < end) {
    v1 = rotl<u64>(v1 + load<u64>(p, 0) * P2, 31) * P1;
    v2 = rotl<u64>(v2 + load<u64>(p, 8) * P2, 31) * P1;
    v3 = rotl<u64>(v3 + load<u64>(p, 16) * P2, 31) * P1;
    v4 = rotl<u64>(v4 + load<u64>(p, 24) * P2, 31) * P1;
    p += 32;
  }
  store<u64>(lanes, v1, 0);
  store<u64>(lanes, v2, 8);
  store<u64>(lanes, v3, 16);
  store<u64>(lanes, v4, 24);
}
