/* Peer for bench/features.ts: one separable Gaussian pass (along z, the strided axis, and along x)
 * over a float32 volume in plain C, compiled at bench time with gcc -O3 -march=native.
 *   gauss <nz> <ny> <nx> <sigma> <reps>
 * Prints one JSON line with the median seconds per pass. Same cropping as the wasm kernel: the
 * output has nz - 2r planes (z pass) or nx - 2r columns (x pass). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 6) return 2;
  int nz = atoi(argv[1]), ny = atoi(argv[2]), nx = atoi(argv[3]), reps = atoi(argv[5]);
  double sigma = atof(argv[4]);
  int r = (int)(4.0 * sigma + 0.5);
  float *w = malloc(sizeof(float) * (2 * r + 1));
  double sum = 0;
  for (int k = -r; k <= r; k++) sum += exp(-0.5 * k * k / (sigma * sigma));
  for (int k = -r; k <= r; k++) w[k + r] = (float)(exp(-0.5 * k * k / (sigma * sigma)) / sum);
  size_t n = (size_t)nz * ny * nx;
  float *in = malloc(n * sizeof(float));
  float *out = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) in[i] = (float)((i * 2654435761u) % 1000);
  double tz[64], tx[64];
  size_t plane = (size_t)ny * nx;
  int oz = nz - 2 * r, ox = nx - 2 * r;
  for (int rep = 0; rep < reps && rep < 64; rep++) {
    double t0 = now();
    /* z pass: symmetric kernel, vectorisable inner loop over the contiguous plane */
    for (int z = 0; z < oz; z++) {
      float *o = out + (size_t)z * plane;
      const float *c = in + (size_t)(z + r) * plane;
      for (size_t i = 0; i < plane; i++) o[i] = w[r] * c[i];
      for (int k = 1; k <= r; k++) {
        const float *a = c + k * plane, *b = c - k * plane;
        float wk = w[r + k];
        for (size_t i = 0; i < plane; i++) o[i] += wk * (a[i] + b[i]);
      }
    }
    tz[rep] = now() - t0;
    t0 = now();
    /* x pass: per output voxel, symmetric taps along the contiguous axis */
    for (size_t row = 0; row < (size_t)nz * ny; row++) {
      const float *s = in + row * nx + r;
      float *o = out + row * ox;
      for (int x = 0; x < ox; x++) {
        float acc = w[r] * s[x];
        for (int k = 1; k <= r; k++) acc += w[r + k] * (s[x + k] + s[x - k]);
        o[x] = acc;
      }
    }
    tx[rep] = now() - t0;
  }
  qsort(tz, reps, sizeof(double), cmp);
  qsort(tx, reps, sizeof(double), cmp);
  printf("{\"zPassSeconds\": %.6f, \"xPassSeconds\": %.6f, \"zOutVoxels\": %zu, \"xOutVoxels\": %zu, \"check\": %f}\n", tz[reps / 2], tx[reps / 2],
         (size_t)oz * plane, (size_t)nz * ny * ox, out[12345 % ((size_t)nz * ny * ox)]);
  return 0;
}
