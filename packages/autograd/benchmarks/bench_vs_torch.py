"""Epoch time of our MLP and CNN against the same models in plain PyTorch, on one thread.

Both frameworks train the same architecture (the ``autograd.apps.mnist`` recipes; the PyTorch
model is translated layer by layer from ours, so the two cannot drift apart) on the same MNIST
data, batch size and per-epoch shuffling, each in its native layout (NHWC for ours, NCHW for
PyTorch), with Adam, the recipe's loss (label smoothing included) and the same per-batch
bookkeeping (loss value and accuracy). The CNN's data augmentation (``RandomShift``, about 1 %
of a step) is switched off on both sides: PyTorch has no built-in equivalent. The repetitions
alternate between the frameworks (and which one goes first), so a busy machine slows both
alike; the report gives min and median epoch times, wall and CPU, and their ratios. CPU time
(``time.process_time``) is the number to compare on a shared machine: it does not count the
time the process waits for a core, though cache contention still inflates it.

It also measures the MLP's time to 98% test accuracy (training time only; the test evaluation
after each epoch is not counted) with the graded recipe.

Usage::

    OMP_NUM_THREADS=1 python packages/autograd/benchmarks/bench_vs_torch.py [--quick]
        [--reps 3] [--models mlp cnn] [--examples N] [--time-to-98-runs N]
        [--json results.json]
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
from autograd.apps.mnist import RECIPES, build_cnn, load_mnist  # noqa: E402

torch.set_num_threads(1)


# ================================================================================= ours
def our_model(recipe_name: str, seed: int) -> autograd.Sequential:
    """The recipe's model, without its data augmentation (see the module docstring)."""
    recipe = RECIPES[recipe_name]
    if recipe_name == "cnn":
        return build_cnn(seed=seed, max_shift=0)
    return recipe.build_model(seed=seed)


def our_epoch(
    recipe_name: str, x: np.ndarray, y: np.ndarray, seed: int
) -> Callable[[], tuple[float, float]]:
    recipe = RECIPES[recipe_name]
    model = our_model(recipe_name, seed)
    model.compile(
        optimizers.Adam(recipe.learning_rate),
        autograd.losses.CategoricalCrossentropy(
            from_logits=recipe.from_logits, label_smoothing=recipe.label_smoothing
        ),
        ["accuracy"],
    )
    model.fit(
        x[: recipe.batch_size * 2],
        y[: recipe.batch_size * 2],
        epochs=1,
        batch_size=recipe.batch_size,
        verbose=0,
        seed=seed,
    )  # warm-up
    epoch = [0]

    def run() -> tuple[float, float]:
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(x, y, epochs=1, batch_size=recipe.batch_size, verbose=0, seed=seed + epoch[0])
        epoch[0] += 1
        return time.perf_counter() - start, time.process_time() - cpu_start

    return run


# ================================================================================ torch
def torch_model(recipe_name: str) -> torch.nn.Module:
    """The recipe's architecture in PyTorch, translated layer by layer from our model.

    PyTorch's flatten sees NCHW, ours NHWC: the order of the dense layer's inputs differs,
    which changes nothing about the work per step.
    """
    nn = torch.nn
    modules: list[torch.nn.Module] = []
    for layer in our_model(recipe_name, seed=0).layers:
        kind = type(layer).__name__
        if kind in ("InputLayer", "RandomShift"):
            continue
        if kind == "Dense":
            modules.append(nn.Linear(*layer.kernel.shape))
        elif kind == "Conv2D":
            kh, kw, channels, filters = layer.kernel.shape
            if layer.padding != "same" or layer.strides != (1, 1) or kh % 2 == 0 or kw % 2 == 0:
                raise ValueError(
                    f"Only stride-1 'same' convolutions with odd kernels are "
                    f"translated. Received: {layer.get_config()}"
                )
            modules.append(nn.Conv2d(channels, filters, (kh, kw), padding=(kh // 2, kw // 2)))
        elif kind == "MaxPool2D":
            modules.append(nn.MaxPool2d(layer.pool_size, layer.strides))
        elif kind == "ReLU":
            modules.append(nn.ReLU())
        elif kind == "Dropout":
            modules.append(nn.Dropout(layer.rate))
        elif kind == "Flatten":
            modules.append(nn.Flatten())
        else:
            raise ValueError(f"No PyTorch translation for layer {kind!r}")
        activation = getattr(layer, "activation", None)
        if kind in ("Dense", "Conv2D") and activation is not None:
            name = autograd.activations.serialize(activation)
            if name == "relu":
                modules.append(nn.ReLU())
            elif name != "linear":
                raise ValueError(f"No PyTorch translation for activation {name!r}")
    return nn.Sequential(*modules)


def torch_epoch(
    recipe_name: str, x: np.ndarray, labels: np.ndarray, seed: int
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
            index = order[start : start + recipe.batch_size]
            batch_x, batch_y = inputs[index], targets[index]
            optimizer.zero_grad(set_to_none=True)
            logits = model(batch_x)
            loss = torch.nn.functional.cross_entropy(
                logits, batch_y, label_smoothing=recipe.label_smoothing
            )
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
def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> list[float] | None:
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else None


def compare_epochs(
    name: str, reps: int, x: np.ndarray, y: np.ndarray, labels: np.ndarray, seed: int
) -> dict[str, Any]:
    runners = {"autograd": our_epoch(name, x, y, seed), "torch": torch_epoch(name, x, labels, seed)}
    times: dict[str, list[float]] = {"autograd": [], "torch": []}
    cpu: dict[str, list[float]] = {"autograd": [], "torch": []}
    for rep in range(reps):
        order = ["autograd", "torch"] if rep % 2 == 0 else ["torch", "autograd"]
        for framework in order:
            seconds, cpu_seconds = runners[framework]()
            times[framework].append(seconds)
            cpu[framework].append(cpu_seconds)
            print(
                f"  {name} rep {rep + 1}/{reps} {framework:<8} {seconds:7.2f} s wall "
                f"{cpu_seconds:7.2f} s CPU",
                flush=True,
            )
    summary: dict[str, Any] = {
        f: {
            "min_s": min(times[f]),
            "median_s": statistics.median(times[f]),
            "all_s": times[f],
            "cpu_min_s": min(cpu[f]),
            "cpu_median_s": statistics.median(cpu[f]),
            "cpu_all_s": cpu[f],
        }
        for f in times
    }
    summary["ratio_min"] = summary["autograd"]["min_s"] / summary["torch"]["min_s"]
    summary["ratio_median"] = summary["autograd"]["median_s"] / summary["torch"]["median_s"]
    # Process CPU time is less sensitive to other programs on a shared machine than wall time.
    summary["cpu_ratio_min"] = summary["autograd"]["cpu_min_s"] / summary["torch"]["cpu_min_s"]
    summary["cpu_ratio_median"] = (
        summary["autograd"]["cpu_median_s"] / summary["torch"]["cpu_median_s"]
    )
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
        model.fit(
            data.x_train,
            data.y_train,
            epochs=epoch + 1,
            initial_epoch=epoch,
            batch_size=recipe.batch_size,
            verbose=0,
            seed=seed,
        )
        elapsed += time.perf_counter() - start
        cpu_elapsed += time.process_time() - cpu_start
        accuracy = model.evaluate(data.x_test, data.y_test, batch_size=1000, return_dict=True)[
            "accuracy"
        ]
        curve.append(
            {
                "epoch": epoch + 1,
                "train_seconds": elapsed,
                "train_cpu_seconds": cpu_elapsed,
                "test_accuracy": accuracy,
            }
        )
        print(
            f"  mlp epoch {epoch + 1}: {elapsed:6.1f} s wall, {cpu_elapsed:6.1f} s CPU, "
            f"test accuracy {accuracy:.4f}",
            flush=True,
        )
        if accuracy >= target:
            return {
                "target": target,
                "seed": seed,
                "seconds": elapsed,
                "cpu_seconds": cpu_elapsed,
                "epochs": epoch + 1,
                "curve": curve,
            }
    return {
        "target": target,
        "seed": seed,
        "seconds": None,
        "epochs": None,
        "curve": curve,
        "note": f"not reached in {max_epochs} epochs",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="one repetition on a small subset, no time-to-98%%"
    )
    parser.add_argument("--reps", type=int, help="repetitions per framework (3; --quick: 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    parser.add_argument(
        "--examples",
        type=int,
        help="train on this many examples per epoch (default: all; --quick: "
        "6000 for the MLP, 1280 for the CNN)",
    )
    parser.add_argument(
        "--time-to-98-runs",
        type=int,
        default=None,
        metavar="N",
        help="MLP time-to-98%% runs, seeds seed..seed+N-1 (default 1; --quick: 0)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.quick else 3)
    report: dict[str, Any] = {
        "threads": {
            k: os.environ.get(k)
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        },
        "torch_threads": torch.get_num_threads(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "machine": _cpu_name(),
        "cpus": os.cpu_count(),
        "load_average_at_start": _load(),
        "quick": args.quick,
        "epochs": {},
    }
    print(
        f"{report['machine']}, {report['cpus']} CPUs, load average at the start: "
        f"{report['load_average_at_start']}",
        flush=True,
    )
    for name in args.models:
        recipe = RECIPES[name]
        data = load_mnist(recipe.image_shape)
        count = len(data.x_train)
        if args.examples:
            count = min(args.examples, count)
        elif args.quick:
            count = {"mlp": 6000, "cnn": 1280}[name]
        print(f"{name}: {count} examples, batch {recipe.batch_size}, {reps} reps", flush=True)
        report["epochs"][name] = compare_epochs(
            name,
            reps,
            data.x_train[:count],
            data.y_train[:count],
            data.labels_train[:count],
            args.seed,
        )
    runs = (
        args.time_to_98_runs
        if args.time_to_98_runs is not None
        else (0 if args.quick or "mlp" not in args.models else 1)
    )
    if runs:
        print("time to 98% test accuracy (graded MLP recipe):", flush=True)
        report["mlp_time_to_98"] = [
            time_to_accuracy(0.98, args.seed + run, RECIPES["mlp"].epochs) for run in range(runs)
        ]
    print("\nresults (one thread; ratio = autograd / torch, lower is better)")
    print(f"{'':<6}{'---- wall: min / median ----':>36}{'---- CPU: min / median ----':>36}")
    print(
        f"{'model':<6}{'autograd':>12}{'torch':>12}{'ratio':>12}"
        f"{'autograd':>12}{'torch':>12}{'ratio':>12}"
    )
    for name, row in report["epochs"].items():
        ours, theirs = row["autograd"], row["torch"]
        print(
            f"{name:<6}{ours['min_s']:>6.2f}/{ours['median_s']:<5.2f}"
            f"{theirs['min_s']:>6.2f}/{theirs['median_s']:<5.2f}"
            f"{row['ratio_min']:>6.2f}/{row['ratio_median']:<5.2f}"
            f"{ours['cpu_min_s']:>6.2f}/{ours['cpu_median_s']:<5.2f}"
            f"{theirs['cpu_min_s']:>6.2f}/{theirs['cpu_median_s']:<5.2f}"
            f"{row['cpu_ratio_min']:>6.2f}/{row['cpu_ratio_median']:<5.2f}"
        )
    for ttt in report.get("mlp_time_to_98", []):
        print(
            f"MLP time to 98% test accuracy (seed {ttt['seed']}): {ttt['seconds']:.1f} s wall, "
            f"{ttt['cpu_seconds']:.1f} s CPU ({ttt['epochs']} epochs)"
            if ttt["seconds"]
            else f"MLP time to 98% (seed {ttt['seed']}): {ttt['note']}"
        )
    report["load_average_at_end"] = _load()
    print(
        f"load average at the end: {report['load_average_at_end']} on {os.cpu_count()} CPUs "
        "(wall times are only comparable on a quiet machine)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
