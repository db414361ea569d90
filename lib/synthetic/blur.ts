/** Separable Gaussian blur of a (z, y, x) float volume, edges clamped. In place. */
export function gaussianBlur3(data: Float32Array, shape: [number, number, number], sigma: number): void {
  if (!(sigma > 0)) return;
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const [nz, ny, nx] = shape;
  blurAxis(data, nx, 1, ny * nz, (line) => line * nx, k);
  blurAxis(data, ny, nx, nz * nx, (line) => Math.floor(line / nx) * nx * ny + (line % nx), k);
  blurAxis(data, nz, nx * ny, ny * nx, (line) => line, k);
}

/** Blur `lines` 1D lines of length n with element stride `stride`, starting at start(line). */
function blurAxis(data: Float32Array, n: number, stride: number, lines: number, start: (line: number) => number, k: Float32Array): void {
  const r = (k.length - 1) / 2;
  const buf = new Float32Array(n);
  for (let line = 0; line < lines; line++) {
    const s = start(line);
    for (let i = 0; i < n; i++) buf[i] = data[s + i * stride];
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = -r; j <= r; j++) {
        const p = i + j < 0 ? 0 : i + j >= n ? n - 1 : i + j;
        acc += k[j + r] * buf[p];
      }
      data[s + i * stride] = acc;
    }
  }
}
