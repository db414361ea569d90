/**
 * Overlay pixels of the Results step's slice views (RGBA, row-major): the uncertainty of the
 * prediction as a heat map, transparent where the model is sure, yellow → red and opaque where
 * the two best classes are close.
 */

/** `data`: uint8 uncertainty 0–255 (255 × (1 − margin of the two best classes)). */
export function uncertaintyRgba(data: ArrayLike<number>): Uint8Array {
  const rgba = new Uint8Array(data.length * 4);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]! / 255;
    if (!(v > 0)) continue;
    rgba[i * 4] = 255;
    rgba[i * 4 + 1] = Math.round(230 * (1 - v));
    rgba[i * 4 + 2] = 0;
    rgba[i * 4 + 3] = Math.round(255 * Math.min(1, v * 1.2));
  }
  return rgba;
}
