// AssemblyScript kernels of the 3D feature bank (compiled by wasm/build.mjs with SIMD).
// All arrays are float32, z-major, in linear memory; pointers are byte offsets managed by the
// caller (lib/features/kernels-wasm.ts). No allocation happens here.

/** First free byte after the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

export { conv, npgrad } from './kernels/conv';
export { addc, column, columnBox, fromInt, interleave, mul, scale, sqdiff, variance } from './kernels/elementwise';
export { eig3 } from './kernels/eig3';
export { nlm } from './kernels/nlm';
export { convDown, up2 } from './kernels/resample';
export { mlpPredict } from './kernels/mlp';
