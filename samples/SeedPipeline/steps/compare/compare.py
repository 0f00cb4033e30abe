"""Compare step: pick the best trained model by test accuracy.

Usage:
    python3 compare.py --results DIR DIR [DIR ...] --output DIR

Each results DIR must hold metrics.json and model.json from the train step.
Writes best.json (winner plus every candidate, tagged with its position in
--results) and best_model.json (a byte-for-byte copy of the winner's model.json)
to --output. On equal accuracy the candidate given first wins. Logs best_accuracy,
the candidates table and the tag best_model to the run.
"""
import argparse
import importlib.util
import json
import os
import shutil
import sys

# The engine puts sdk/python on PYTHONPATH; by hand, use this repository's (steps/<x>/ -> ../../../../sdk/python).
if importlib.util.find_spec("pipelinesdk") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4, "sdk", "python"))
from pipelinesdk import Run  # noqa: E402


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def load_metrics(result_dir):
    for name in ("metrics.json", "model.json"):
        if not os.path.isfile(os.path.join(result_dir, name)):
            fail(f"missing {name} in {result_dir}")
    with open(os.path.join(result_dir, "metrics.json")) as f:
        metrics = json.load(f)
    if "model" not in metrics or "accuracy" not in metrics:
        fail(f"{result_dir}/metrics.json lacks 'model' or 'accuracy'")
    return metrics


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", nargs="+", required=True, help="train step output dirs")
    p.add_argument("--output", required=True, help="directory to write outputs into")
    args = p.parse_args()
    if len(args.results) < 2:
        p.error("--results needs at least two directories to compare")
    run = Run.get_context()

    # Sources are recorded by index, not path, so outputs do not depend on where
    # the engine happened to place the inputs.
    candidates = []
    for i, result_dir in enumerate(args.results):
        m = load_metrics(result_dir)
        candidates.append({"model": m["model"], "accuracy": round(float(m["accuracy"]), 6),
                           "source": i})

    # sorted() is stable, so equal accuracies keep their command-line order.
    ranking = sorted(candidates, key=lambda c: -c["accuracy"])
    best = ranking[0]
    run.log("best_accuracy", best["accuracy"])
    run.log_table("candidates", {"model": [c["model"] for c in candidates],
                                 "accuracy": [c["accuracy"] for c in candidates]})
    run.set_tags({"best_model": best["model"]})

    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "best.json"), "w") as f:
        json.dump({"best_model": best["model"], "accuracy": best["accuracy"],
                   "source": best["source"], "candidates": candidates},
                  f, sort_keys=True, indent=2)
        f.write("\n")
    shutil.copyfile(os.path.join(args.results[best["source"]], "model.json"),
                    os.path.join(args.output, "best_model.json"))

    for rank, c in enumerate(ranking, 1):
        marker = "  <- best" if c is best else ""
        print(f"{rank}. {c['model']:<10} accuracy {c['accuracy']:.4f} "
              f"(results #{c['source']}){marker}")


if __name__ == "__main__":
    main()
