"""Prepare step: clean, split and standardize the raw tabular data.

Reads every *.csv under --raw (recursively, in sorted relative-path order),
checks all files share one header, drops rows with missing or unparseable
values, makes a seeded stratified train/test split and z-score standardizes
the features with TRAIN statistics only.

Usage:
    python3 prepare.py --raw DIR --output DIR [--test-fraction 0.25] [--seed 42]

Writes train.csv, test.csv (same header as the input) and stats.json to --output,
and logs rows_kept and rows_dropped to the run (printed when run by hand).
"""
import argparse
import csv
import importlib.util
import json
import math
import os
import random
import sys

# The engine puts sdk/python on PYTHONPATH; by hand, use this repository's (steps/<x>/ -> ../../../../sdk/python).
if importlib.util.find_spec("pipelinesdk") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4, "sdk", "python"))
from pipelinesdk import Run  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--raw", required=True, help="directory containing raw *.csv files")
    p.add_argument("--output", required=True, help="directory to write outputs into")
    p.add_argument("--test-fraction", type=float, default=0.25)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    if not 0.0 < args.test_fraction < 1.0:
        p.error("--test-fraction must be between 0 and 1")
    return args


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def find_csvs(root):
    found = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith(".csv"):
                found.append(os.path.relpath(os.path.join(dirpath, name), root))
    # Sort on the relative path so the row order never depends on the filesystem.
    return sorted(found)


def read_rows(root, rel_paths):
    header, rows, dropped = None, [], 0
    for rel in rel_paths:
        with open(os.path.join(root, rel), newline="") as f:
            reader = csv.reader(f)
            file_header = next(reader, None)
            if header is None:
                header = file_header
            elif file_header != header:
                fail(f"header of {rel} is {file_header}, expected {header}")
            for rec in reader:
                if not rec:
                    continue
                try:
                    if len(rec) != len(header) or not rec[-1].strip():
                        raise ValueError
                    feats = [float(v) for v in rec[:-1]]
                    if not all(math.isfinite(v) for v in feats):
                        raise ValueError
                except ValueError:
                    dropped += 1
                    continue
                rows.append((feats, rec[-1].strip()))
    return header, rows, dropped


def split(rows, test_fraction, seed):
    rng = random.Random(seed)
    by_class = {}
    for row in rows:
        by_class.setdefault(row[1], []).append(row)
    train, test = [], []
    # Stratify so every class keeps the same share in train and test.
    for label in sorted(by_class):
        group = by_class[label]
        rng.shuffle(group)
        n_test = round(len(group) * test_fraction)
        test.extend(group[:n_test])
        train.extend(group[n_test:])
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def write_csv(path, header, rows, means, stds):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for feats, label in rows:
            w.writerow([f"{(v - m) / s:.6f}" for v, m, s in zip(feats, means, stds)] + [label])


def main():
    args = parse_args()
    run = Run.get_context()
    if not os.path.isdir(args.raw):
        fail(f"--raw {args.raw} is not a directory")
    rel_paths = find_csvs(args.raw)
    if not rel_paths:
        fail(f"no *.csv files under {args.raw}")
    header, rows, dropped = read_rows(args.raw, rel_paths)
    run.log("rows_kept", len(rows))
    run.log("rows_dropped", dropped)
    if header is None or len(header) < 2:
        fail("input header needs at least one feature and a label column")
    train, test = split(rows, args.test_fraction, args.seed)
    if not train or not test:
        fail("not enough rows to make both a train and a test set")

    n_feat = len(header) - 1
    means = [sum(r[0][i] for r in train) / len(train) for i in range(n_feat)]
    stds = []
    for i in range(n_feat):
        var = sum((r[0][i] - means[i]) ** 2 for r in train) / len(train)
        # A constant column would divide by zero; leave it centred but unscaled.
        stds.append(math.sqrt(var) or 1.0)

    os.makedirs(args.output, exist_ok=True)
    write_csv(os.path.join(args.output, "train.csv"), header, train, means, stds)
    write_csv(os.path.join(args.output, "test.csv"), header, test, means, stds)
    stats = {
        "features": header[:-1],
        "label": header[-1],
        "classes": sorted({r[1] for r in rows}),
        "means": [round(m, 6) for m in means],
        "stds": [round(s, 6) for s in stds],
        "rows": {"kept": len(rows), "dropped": dropped, "train": len(train), "test": len(test)},
        "files": len(rel_paths),
        "seed": args.seed,
        "test_fraction": args.test_fraction,
    }
    with open(os.path.join(args.output, "stats.json"), "w") as f:
        json.dump(stats, f, sort_keys=True, indent=2)
        f.write("\n")

    print(f"read {len(rel_paths)} file(s): kept {len(rows)} rows, dropped {dropped} with missing/bad values")
    print(f"split: {len(train)} train / {len(test)} test, classes: {', '.join(stats['classes'])}")


if __name__ == "__main__":
    main()
