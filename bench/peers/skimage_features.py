"""Peer for bench/features.ts: scikit-image multiscale_basic_features on a raw volume.

  /usr/bin/python3 bench/peers/skimage_features.py <raw file> <nz> <ny> <nx> <uint8|uint16|float32> [reps]

Prints one JSON line: {"seconds": [...], "median": s, "nFeatures": n, "skimage": version, "threads": n}.
"""
import json
import os
import sys
import time

import numpy as np
import skimage
from skimage.feature import multiscale_basic_features


def main():
    path, nz, ny, nx, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    reps = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    vol = np.fromfile(path, dtype=np.dtype(dtype).newbyteorder('<')).reshape(nz, ny, nx)
    times = []
    n = 0
    for _ in range(reps):
        t = time.perf_counter()
        f = multiscale_basic_features(vol, intensity=True, edges=True, texture=True, sigma_min=0.5, sigma_max=16)
        times.append(time.perf_counter() - t)
        n = f.shape[-1]
        del f
    print(json.dumps({
        'seconds': times,
        'median': float(np.median(times)),
        'nFeatures': n,
        'skimage': skimage.__version__,
        'threads': os.cpu_count(),
    }))


if __name__ == '__main__':
    main()
