#!/usr/bin/python3
"""Peer of petromap's train+predict: scikit-image multiscale_basic_features on the whole volume,
scikit-learn RandomForestClassifier(100 trees) trained on the given labelled voxels, prediction of
every voxel. What a user of the Python stack would write.

usage: sklearn_pipeline.py <volume.raw> <nz,ny,nx> <labels.tsv (z y x class per line)> <out.raw>
Prints one JSON line: seconds per stage and peak RSS (MiB).
"""
import json
import resource
import sys
import time

import numpy as np
from skimage.feature import multiscale_basic_features
from sklearn.ensemble import RandomForestClassifier


def main():
    vol_path, shape_s, labels_path, out_path = sys.argv[1:5]
    shape = tuple(int(v) for v in shape_s.split(','))
    t0 = time.time()
    vol = np.fromfile(vol_path, dtype='<u2').reshape(shape).astype(np.float32)
    lab = np.loadtxt(labels_path, dtype=np.int64, ndmin=2)
    t_read = time.time()
    feats = multiscale_basic_features(vol, intensity=True, edges=True, texture=True, sigma_min=0.5, sigma_max=16, channel_axis=None)
    t_feat = time.time()
    X = feats[lab[:, 0], lab[:, 1], lab[:, 2]]
    y = lab[:, 3]
    clf = RandomForestClassifier(n_estimators=100, n_jobs=-1, max_depth=None, max_samples=0.05 if len(y) > 200000 else None, random_state=0)
    clf.fit(X, y)
    t_train = time.time()
    flat = feats.reshape(-1, feats.shape[-1])
    out = np.empty(flat.shape[0], dtype=np.uint8)
    step = 1 << 20
    for s in range(0, flat.shape[0], step):
        out[s:s + step] = clf.predict(flat[s:s + step])
    out.tofile(out_path)
    t_pred = time.time()
    print(json.dumps({
        'read': t_read - t0, 'features': t_feat - t_read, 'train': t_train - t_feat, 'predict': t_pred - t_train,
        'total': t_pred - t0, 'nFeatures': int(feats.shape[-1]), 'nLabels': int(len(y)),
        'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == '__main__':
    main()
