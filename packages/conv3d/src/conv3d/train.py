"""Command line: train one recipe on AdrenalMNIST3D and print its val and test ACC / ROC-AUC.

Usage::

    OMP_NUM_THREADS=1 python -m conv3d.train torch runs/conv3d/torch_s0 --seed 0
    OMP_NUM_THREADS=1 python -m conv3d.train keras runs/conv3d/keras_s0 --seed 0 --epochs 20
    python -m conv3d.train torch runs/conv3d/torch64 --dataset adrenalmnist3d_64

Running it again on a finished work dir only evaluates; on an interrupted one it resumes. With
``--results FILE`` it appends one JSON line per run (recipe, seconds, val and test metrics).
The recipe is chosen on the val split; the test numbers are only reported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from conv3d.augment import AugmentConfig


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (``python -m conv3d.train --help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m conv3d.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("framework", choices=["torch", "keras"])
    parser.add_argument("work_dir", type=Path, help="checkpoints and the finished model")
    parser.add_argument(
        "--dataset", default="adrenalmnist3d", choices=["adrenalmnist3d", "adrenalmnist3d_64"]
    )
    parser.add_argument("--model", choices=["cnn", "resnet"], default="cnn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--max-rotation", type=float, default=None, help="degrees")
    parser.add_argument("--max-scale", type=float, default=None)
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--no-tta", action="store_true", help="no flip averaging at test time")
    parser.add_argument("--results", type=Path, default=None, help="append a JSON line here")
    args = parser.parse_args(argv)

    from a2common.data import load_dataset
    from conv3d.metrics import binary_metrics
    from conv3d.results import to_volumes

    augment = (
        AugmentConfig.none()
        if args.no_augment
        else AugmentConfig(
            **{
                key: value
                for key, value in (
                    ("max_rotation_deg", args.max_rotation),
                    ("max_scale", args.max_scale),
                )
                if value is not None
            }
        )
    )
    options = {
        key: value
        for key, value in (("epochs", args.epochs), ("learning_rate", args.learning_rate))
        if value is not None
    }
    options.update(model=args.model, seed=args.seed, augment=augment, tta_flips=not args.no_tta)
    data = load_dataset(args.dataset)
    if data.val is None:
        raise ValueError(
            f"Expected a dataset with a validation split. Received: {args.dataset!r} without one"
        )
    val_split = data.val
    split_args = (data.train.x, data.train.y, val_split.x, val_split.y, data.test.x)
    config: TorchTrainConfig | KerasTrainConfig
    if args.framework == "torch":
        from conv3d.torch_models import TorchTrainConfig, predict_probabilities, train_torch

        threads = os.environ.get("OMP_NUM_THREADS")
        config = TorchTrainConfig(num_threads=int(threads) if threads else None, **options)
        result = train_torch(config, args.work_dir, *split_args)
    else:
        import a2common.tf_env  # noqa: F401  (before TensorFlow)

        # isort: split
        import tensorflow as tf

        from conv3d.keras_models import KerasTrainConfig, predict_probabilities, train_keras

        threads = os.environ.get("OMP_NUM_THREADS")
        if threads:  # TensorFlow sizes its own thread pools; honour the same limit
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(int(threads))

        config = KerasTrainConfig(**options)
        result = train_keras(config, args.work_dir, *split_args)
    val_probabilities = predict_probabilities(
        result.model, to_volumes(val_split.x), tta_flips=config.tta_flips
    )
    val, test = (
        binary_metrics(val_split.y, val_probabilities),
        binary_metrics(data.test.y, result.test_probabilities),
    )
    record = {
        "framework": args.framework,
        "dataset": args.dataset,
        "seed": args.seed,
        "config": asdict(config),
        "train_seconds": round(result.train_seconds, 1),
        "cpu_seconds_this_process": round(time.process_time(), 1),
        "parameters": result.parameters,
        "from_cache": result.from_cache,
        "val_accuracy": val["accuracy"],
        "val_roc_auc": val["roc_auc"],
        "test_accuracy": test["accuracy"],
        "test_roc_auc": test["roc_auc"],
    }
    print(
        f"{args.framework} {args.model} seed {args.seed} on {args.dataset}: "
        f"val ACC {val['accuracy']:.3f} AUC {val['roc_auc']:.3f} | "
        f"test ACC {test['accuracy']:.3f} AUC {test['roc_auc']:.3f} | "
        f"{result.train_seconds:.0f} s training (wall), {time.process_time():.0f} s CPU"
    )
    if args.results is not None:
        with open(args.results, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
