"""Train step: fit a classifier on prepared data and score it on the test split.

Models:
    logreg    multinomial (softmax) logistic regression, full-batch gradient descent
    centroid  nearest-centroid classifier (Euclidean distance to class means)

Usage:
    python3 train.py --data DIR --output DIR --model {logreg,centroid}
                     [--learning-rate 0.1] [--epochs 200]

Reads train.csv and test.csv (last column is the label) from --data and writes
model.json (the fitted parameters) and metrics.json to --output. Logs accuracy,
train_accuracy, a per_class row (test precision, recall, f1, support) and, for
logreg, learning_rate and the training loss every 20 epochs (series "loss").
"""
import argparse
import csv
import importlib.util
import json
import math
import os
import sys

# The engine puts sdk/python on PYTHONPATH; by hand, use this repository's (steps/<x>/ -> ../../../../sdk/python).
if importlib.util.find_spec("pipelinesdk") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4, "sdk", "python"))
from pipelinesdk import Run  # noqa: E402


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path):
    if not os.path.isfile(path):
        fail(f"missing input file {path}")
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or len(header) < 2:
            fail(f"{path} has no usable header")
        try:
            rows = [([float(v) for v in rec[:-1]], rec[-1]) for rec in reader if rec]
        except ValueError as exc:
            fail(f"{path}: {exc} (expected the prepare step's numeric output)")
    if not rows:
        fail(f"{path} has no data rows")
    return header, rows


LOSS_EVERY = 20  # epochs between two points of the loss series


def train_logreg(rows, classes, lr, epochs, on_loss=None):
    n_feat, k = len(rows[0][0]), len(classes)
    index = {c: i for i, c in enumerate(classes)}
    # Zero start: the result depends only on the data and hyper-parameters.
    weights = [[0.0] * n_feat for _ in range(k)]
    bias = [0.0] * k
    for epoch in range(epochs):
        grad_w = [[0.0] * n_feat for _ in range(k)]
        grad_b = [0.0] * k
        for x, label in rows:
            probs = softmax([b + dot(w, x) for w, b in zip(weights, bias)])
            probs[index[label]] -= 1.0  # gradient of cross-entropy w.r.t. logits
            for c in range(k):
                grad_b[c] += probs[c]
                for j in range(n_feat):
                    grad_w[c][j] += probs[c] * x[j]
        scale = lr / len(rows)
        for c in range(k):
            bias[c] -= scale * grad_b[c]
            for j in range(n_feat):
                weights[c][j] -= scale * grad_w[c][j]
        if on_loss and (epoch + 1) % LOSS_EVERY == 0:
            on_loss(epoch + 1, mean_loss(weights, bias, index, rows))
    return {"weights": weights, "bias": bias}


def mean_loss(weights, bias, index, rows):
    """Mean cross-entropy of the current weights over rows (log-sum-exp, so no log(0))."""
    total = 0.0
    for x, label in rows:
        logits = [b + dot(w, x) for w, b in zip(weights, bias)]
        top = max(logits)
        total += top + math.log(sum(math.exp(z - top) for z in logits)) - logits[index[label]]
    return total / len(rows)


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def softmax(logits):
    top = max(logits)  # shift for numerical stability
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def train_centroid(rows, classes):
    centroids = []
    for c in classes:
        members = [x for x, label in rows if label == c]
        centroids.append([sum(col) / len(members) for col in zip(*members)])
    return {"centroids": centroids}


def predict(model_name, params, classes, x):
    if model_name == "logreg":
        scores = [b + dot(w, x) for w, b in zip(params["weights"], params["bias"])]
    else:
        scores = [-sum((a - b) ** 2 for a, b in zip(x, c)) for c in params["centroids"]]
    # max() keeps the first maximum, so ties resolve by class order.
    return classes[max(range(len(classes)), key=scores.__getitem__)]


def accuracy(model_name, params, classes, rows):
    hits = sum(predict(model_name, params, classes, x) == label for x, label in rows)
    return hits / len(rows)


def per_class_scores(model_name, params, classes, rows):
    """Precision, recall, f1 and support of every class over rows (0.0 where undefined)."""
    pairs = [(predict(model_name, params, classes, x), label) for x, label in rows]
    scores = []
    for c in classes:
        tp = sum(p == c and y == c for p, y in pairs)
        predicted = sum(p == c for p, _ in pairs)
        support = sum(y == c for _, y in pairs)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append({"class": c, "precision": precision, "recall": recall, "f1": f1, "support": support})
    return scores


def rounded(value):
    # 6-decimal floats keep the files short and their bytes stable for hashing.
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return {k: rounded(v) for k, v in value.items()} if isinstance(value, dict) else value


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(rounded(obj), f, sort_keys=True, indent=2)
        f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="directory with train.csv and test.csv")
    p.add_argument("--output", required=True, help="directory to write outputs into")
    p.add_argument("--model", required=True, choices=["logreg", "centroid"])
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=200)
    args = p.parse_args()
    if args.epochs < 0 or args.learning_rate <= 0:
        p.error("--epochs must be >= 0 and --learning-rate > 0")
    run = Run.get_context()

    header, train = load(os.path.join(args.data, "train.csv"))
    test_header, test = load(os.path.join(args.data, "test.csv"))
    if test_header != header:
        fail("train.csv and test.csv have different headers")
    classes = sorted({label for _, label in train})

    if args.model == "logreg":
        run.log("learning_rate", args.learning_rate)
        params = train_logreg(train, classes, args.learning_rate, args.epochs,
                              on_loss=lambda epoch, loss: run.log("loss", loss))
    else:
        params = train_centroid(train, classes)
    metrics = {
        "model": args.model,
        "accuracy": accuracy(args.model, params, classes, test),
        "train_accuracy": accuracy(args.model, params, classes, train),
    }
    if args.model == "logreg":
        metrics.update(learning_rate=args.learning_rate, epochs=args.epochs)
    run.log("accuracy", metrics["accuracy"])
    run.log("train_accuracy", metrics["train_accuracy"])
    for scores in per_class_scores(args.model, params, classes, test):
        run.log_row("per_class", **scores)

    os.makedirs(args.output, exist_ok=True)
    write_json(os.path.join(args.output, "model.json"),
               dict(params, model=args.model, classes=classes, features=header[:-1]))
    write_json(os.path.join(args.output, "metrics.json"), metrics)
    print(f"{args.model}: test accuracy {metrics['accuracy']:.4f} "
          f"(train {metrics['train_accuracy']:.4f})")


if __name__ == "__main__":
    main()
