#!/usr/bin/python3
"""Peer of petromap's classifier on the SAME feature rows (bench lithology): scikit-learn
RandomForestClassifier(100 trees) trained on the given labelled rows, predicting every row.

usage: sklearn_rf_rows.py <features.f32 (n x f, row-major)> <n,f> <train.tsv (row class per line)> <out.u8> [seed]
Prints one JSON line: seconds of training and prediction.
"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier


def main():
    feat_path, nf, train_path, out_path = sys.argv[1:5]
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    n, f = (int(v) for v in nf.split(','))
    X = np.fromfile(feat_path, dtype='<f4').reshape(n, f)
    lab = np.loadtxt(train_path, dtype=np.int64, ndmin=2)
    t0 = time.time()
    clf = RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=seed)
    clf.fit(X[lab[:, 0]], lab[:, 1])
    t1 = time.time()
    out = np.empty(n, dtype=np.uint8)
    step = 1 << 18
    for s in range(0, n, step):
        out[s:s + step] = clf.predict(X[s:s + step])
    out.tofile(out_path)
    print(json.dumps({'train': t1 - t0, 'predict': time.time() - t1}))


if __name__ == '__main__':
    main()
