"""Epoch time of our MLP and CNN against the same models in plain PyTorch, on one thread.

Both frameworks train the same architecture (the ``autograd.apps.mnist`` recipes) on the same
MNIST data, batch size and per-epoch shuffling, each in its native layout (NHWC for ours, NCHW
for PyTorch), with Adam and the same per-batch bookkeeping (loss value and accuracy). The
repetitions alternate between the frameworks (and which one goes first), so a busy machine
slows both alike; the report gives min and median epoch times and their ratios.

It also measures the MLP's time to 98% test accuracy (training time only; the test evaluation
after each epoch is not counted) with the graded recipe.

Usage::

    OMP_NUM_THREADS=1 python packages/autograd/benchmarks/bench_vs_torch.py [--quick]
        [--reps 3] [--json results.json]
"""
from __future__ import annotations

import os

# One thread everywhere; these must be set before numpy / torch load their BLAS.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import autograd  # noqa: E402
from autograd import optimizers  # noqa: E402
from autograd.apps.mnist import RECIPES, load_mnist  # noqa: E402

torch.set_num_threads(1)


# ================================================================================= ours
def our_epoch(recipe_name: str, x: np.ndarray, y: np.ndarray, seed: int
              ) -> Callable[[], tuple[float, float]]:
    recipe = RECIPES[recipe_name]
    model = recipe.build_model(seed=seed)
    model.compile(optimizers.Adam(recipe.learning_rate),
                  autograd.losses.CategoricalCrossentropy(from_logits=recipe.from_logits),
                  ["accuracy"])
    model.fit(x[:recipe.batch_size * 2], y[:recipe.batch_size * 2], epochs=1,
              batch_size=recipe.batch_size, verbose=0, seed=seed)  # warm-up
    epoch = [0]

    def run() -> tuple[float, float]:
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(x, y, epochs=1, batch_size=recipe.batch_size, verbose=0, seed=seed + epoch[0])
        epoch[0] += 1
        return time.perf_counter() - start, time.process_time() - cpu_start
    return run


# ================================================================================ torch
def torch_model(recipe_name: str) -> torch.nn.Module:
    nn = torch.nn
    if recipe_name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))
    if recipe_name == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
                             nn.Conv2d(32, 64, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
                             nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3),
                             nn.Linear(128, 10))
    raise ValueError(f"Expected 'mlp' or 'cnn'. Received: {recipe_name!r}")


def torch_epoch(recipe_name: str, x: np.ndarray, labels: np.ndarray, seed: int
                ) -> Callable[[], tuple[float, float]]:
    recipe = RECIPES[recipe_name]
    torch.manual_seed(seed)
    model = torch_model(recipe_name)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.learning_rate, eps=1e-7)
    inputs = torch.from_numpy(x if x.ndim == 2 else np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    targets = torch.from_numpy(labels.astype(np.int64))
    epoch = [0]

    def train(count: int) -> None:
        model.train()
        order = torch.from_numpy(np.random.default_rng([seed, epoch[0]]).permutation(count))
        seen = correct = 0
        total_loss = 0.0
        for start in range(0, count, recipe.batch_size):
            index = order[start:start + recipe.batch_size]
            batch_x, batch_y = inputs[index], targets[index]
            optimizer.zero_grad(set_to_none=True)
            logits = model(batch_x)
            loss = torch.nn.functional.cross_entropy(logits, batch_y)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(index)  # the same bookkeeping as our fit()
            correct += int((logits.argmax(1) == batch_y).sum())
            seen += len(index)

    train(recipe.batch_size * 2)  # warm-up

    def run() -> tuple[float, float]:
        start, cpu_start = time.perf_counter(), time.process_time()
        train(len(inputs))
        epoch[0] += 1
        return time.perf_counter() - start, time.process_time() - cpu_start
    return run


# =============================================================================== driver
def compare_epochs(name: str, reps: int, x: np.ndarray, y: np.ndarray, labels: np.ndarray,
                   seed: int) -> dict[str, Any]:
    runners = {"autograd": our_epoch(name, x, y, seed),
               "torch": torch_epoch(name, x, labels, seed)}
    times: dict[str, list[float]] = {"autograd": [], "torch": []}
    cpu: dict[str, list[float]] = {"autograd": [], "torch": []}
    for rep in range(reps):
        order = ["autograd", "torch"] if rep % 2 == 0 else ["torch", "autograd"]
        for framework in order:
            seconds, cpu_seconds = runners[framework]()
            times[framework].append(seconds)
            cpu[framework].append(cpu_seconds)
            print(f"  {name} rep {rep + 1}/{reps} {framework:<8} {seconds:7.2f} s wall "
                  f"{cpu_seconds:7.2f} s CPU", flush=True)
    summary: dict[str, Any] = {
        f: {"min_s": min(times[f]), "median_s": statistics.median(times[f]), "all_s": times[f],
            "cpu_min_s": min(cpu[f]), "cpu_median_s": statistics.median(cpu[f]),
            "cpu_all_s": cpu[f]}
        for f in times}
    summary["ratio_min"] = summary["autograd"]["min_s"] / summary["torch"]["min_s"]
    summary["ratio_median"] = summary["autograd"]["median_s"] / summary["torch"]["median_s"]
    # Process CPU time is less sensitive to other programs on a shared machine than wall time.
    summary["cpu_ratio_min"] = summary["autograd"]["cpu_min_s"] / summary["torch"]["cpu_min_s"]
    summary["examples"] = len(x)
    summary["batch_size"] = RECIPES[name].batch_size
    return summary


def time_to_accuracy(target: float, seed: int, max_epochs: int) -> dict[str, Any]:
    """Train the graded MLP recipe; stop the clock when test accuracy first reaches target."""
    recipe = RECIPES["mlp"]
    data = load_mnist(recipe.image_shape)
    autograd.set_seed(seed)
    model = recipe.build_model(seed=seed)
    steps = recipe.epochs * -(-len(data.x_train) // recipe.batch_size)
    recipe.compile(model, steps)
    elapsed = cpu_elapsed = 0.0
    curve = []
    for epoch in range(max_epochs):
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(data.x_train, data.y_train, epochs=epoch + 1, initial_epoch=epoch,
                  batch_size=recipe.batch_size, verbose=0, seed=seed)
        elapsed += time.perf_counter() - start
        cpu_elapsed += time.process_time() - cpu_start
        accuracy = model.evaluate(data.x_test, data.y_test, batch_size=1000,
                                  return_dict=True)["accuracy"]
        curve.append({"epoch": epoch + 1, "train_seconds": elapsed,
                      "train_cpu_seconds": cpu_elapsed, "test_accuracy": accuracy})
        print(f"  mlp epoch {epoch + 1}: {elapsed:6.1f} s wall, {cpu_elapsed:6.1f} s CPU, "
              f"test accuracy {accuracy:.4f}", flush=True)
        if accuracy >= target:
            return {"target": target, "seconds": elapsed, "cpu_seconds": cpu_elapsed,
                    "epochs": epoch + 1, "curve": curve}
    return {"target": target, "seconds": None, "epochs": None, "curve": curve,
            "note": f"not reached in {max_epochs} epochs"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one repetition on a small subset, no time-to-98%%")
    parser.add_argument("--reps", type=int, help="repetitions per framework (3; --quick: 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    parser.add_argument("--examples", type=int,
                        help="train on this many examples per epoch (default: all; --quick: "
                             "6000 for the MLP, 1280 for the CNN)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.quick else 3)
    report: dict[str, Any] = {
        "threads": {k: os.environ.get(k)
                    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        "torch_threads": torch.get_num_threads(), "numpy": np.__version__,
        "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
        "quick": args.quick, "epochs": {}}
    for name in args.models:
        recipe = RECIPES[name]
        data = load_mnist(recipe.image_shape)
        count = len(data.x_train)
        if args.examples:
            count = min(args.examples, count)
        elif args.quick:
            count = {"mlp": 6000, "cnn": 1280}[name]
        print(f"{name}: {count} examples, batch {recipe.batch_size}, {reps} reps", flush=True)
        report["epochs"][name] = compare_epochs(name, reps, data.x_train[:count],
                                                data.y_train[:count],
                                                data.labels_train[:count], args.seed)
    if not args.quick and "mlp" in args.models:
        print("time to 98% test accuracy (graded MLP recipe):", flush=True)
        report["mlp_time_to_98"] = time_to_accuracy(0.98, args.seed, RECIPES["mlp"].epochs)
    print("\nresults (one thread; ratio = autograd / torch, lower is better)")
    print(f"{'model':<6}{'autograd min':>14}{'median':>9}{'torch min':>11}{'median':>9}"
          f"{'ratio min':>11}{'median':>9}{'CPU ratio':>11}")
    for name, row in report["epochs"].items():
        print(f"{name:<6}{row['autograd']['min_s']:>13.2f}s{row['autograd']['median_s']:>8.2f}s"
              f"{row['torch']['min_s']:>10.2f}s{row['torch']['median_s']:>8.2f}s"
              f"{row['ratio_min']:>11.2f}{row['ratio_median']:>9.2f}{row['cpu_ratio_min']:>11.2f}")
    if "mlp_time_to_98" in report:
        ttt = report["mlp_time_to_98"]
        print(f"MLP time to 98% test accuracy: {ttt['seconds']:.1f} s wall, "
              f"{ttt['cpu_seconds']:.1f} s CPU ({ttt['epochs']} epochs)" if ttt["seconds"]
              else f"MLP time to 98%: {ttt['note']}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    report["load_average_at_end"] = load
    print(f"load average at the end: {load} on {os.cpu_count()} CPUs (wall times are only "
          "comparable on a quiet machine)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
