"""Estimate the CIFAR-10 epoch time of candidate SqueezeNet and Xception configurations.

Run on one thread (the numbers in the README come from this script):

    OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 \\
        .venv/bin/python packages/modern_convnets/scripts/explore_speed.py [NAME ...]

Prints one JSON line per candidate: parameters, multiply-adds per image, and the estimated
wall and CPU seconds of one epoch (:func:`modern_convnets.training.measure_epoch_seconds`).
"""

import json
import os
import sys

from modern_convnets.profiling import count_multiply_adds, limit_to_one_thread
from modern_convnets.training import CONFIGS, TrainConfig, build_model, measure_epoch_seconds

_SQUEEZE = {
    "stem_strides": 1,
    "padding": "same",
    "batch_norm": True,
    "bypass": True,
    "dropout": 0.2,
}
_XCEPTION = {"stem_strides": 1, "stem_padding": "same", "dropout": 0.2}
CANDIDATES = {
    "squeezenet_v1_1_w0.5": CONFIGS["squeezenet_cifar10"],
    "squeezenet_v1_1_w1.0": TrainConfig(
        "squeezenet", model_kwargs={**_SQUEEZE, "version": "1.1", "width_multiplier": 1.0}
    ),
    "squeezenet_v1_0_w0.5": TrainConfig(
        "squeezenet", model_kwargs={**_SQUEEZE, "version": "1.0", "width_multiplier": 0.5}
    ),
    "xception_small": CONFIGS["xception_cifar10"],
    "xception_wide": TrainConfig(
        "xception",
        model_kwargs={
            **_XCEPTION,
            "stem_widths": (32, 64),
            "entry_widths": (128, 256),
            "middle_blocks": 4,
            "exit_widths": (256, 512),
            "head_widths": (512, 728),
        },
    ),
    "xception_3entry": TrainConfig(
        "xception",
        model_kwargs={
            **_XCEPTION,
            "stem_widths": (32, 64),
            "entry_widths": (64, 128, 256),
            "middle_blocks": 4,
            "exit_widths": (256, 384),
            "head_widths": (512, 640),
            "exit_pool": False,
        },
    ),
    # stride-2 stem: 32 → 16 → 8 → 4, middle flow at 4x4 (the paper's is at 1/16 of the input)
    "xception_s2_pool": TrainConfig(
        "xception",
        model_kwargs={
            **_XCEPTION,
            "stem_widths": (16, 32),
            "stem_strides": 2,
            "entry_widths": (64, 128),
            "middle_blocks": 4,
            "exit_widths": (128, 256),
            "head_widths": (256, 384),
            "exit_pool": False,
        },
    ),
}

if __name__ == "__main__":
    limit_to_one_thread()
    for name in sys.argv[1:] or CANDIDATES:
        config = CANDIDATES[name]
        model = build_model(config)
        row = {
            "candidate": name,
            "parameters": model.count_params(),
            "multiply_adds": count_multiply_adds(model),
            **measure_epoch_seconds(config),
            "load_average": os.getloadavg()[0],
        }
        print(json.dumps(row), flush=True)
