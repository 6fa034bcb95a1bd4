"""What each speedrun step buys: cumulative ablation of ``keras_models.speedrun``.

Trains the CIFAR-10 speedrun CNN on 90 % of the training set and scores it on the other 10 %
(:func:`keras_models.speedrun.hold_out_run`, also the CLI ``python -m keras_models.speedrun``),
once per row, each row adding one
idea to the previous one, then writes every record with the machine's facts to
``speedrun_ablation.json`` beside this script. Finished runs are cached by their settings'
digest under ``--run-dir``, so an interrupted ablation resumes where it stopped.

Usage (the notebook ``04_cifar10_cnn.ipynb`` shows the table)::

    python packages/keras_models/benchmarks/speedrun_ablation.py            # small, ~20 min
    python packages/keras_models/benchmarks/speedrun_ablation.py --set widths=64,256,256 epochs=12

The rows (``--set`` applies to all of them):

0. baseline: trainable first layer, Glorot init, plain BatchNorm shift, random flips,
   no weight averaging;
1. + frozen patch-whitening first layer;
2. + partial-identity init of the convolutions;
3. + BatchNorm shifts at 64x the learning rate;
4. + Lookahead weight averaging;
5. + alternating (derandomised) flips;
6. the same model in float32 instead of bfloat16 (time only; skipped on CPUs without
   bfloat16 arithmetic, where every row is float32);
7. the full recipe with SiLU instead of airbench's GELU (the graded runs' activation).

Test-time augmentation needs no training: every record holds the hold-out accuracy with no
augmentation, with the mirror and with the six views.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from a2common.machine import cpu_model, vector_isa
from keras_models import speedrun

STEPS = [
    (
        "baseline",
        "whitening=false identity_init=false bias_multiplier=1 lookahead=false "
        "alternating_flips=false",
    ),
    (
        "+ patch whitening",
        "identity_init=false bias_multiplier=1 lookahead=false alternating_flips=false",
    ),
    ("+ identity init", "bias_multiplier=1 lookahead=false alternating_flips=false"),
    ("+ 64x BatchNorm-shift learning rate", "lookahead=false alternating_flips=false"),
    ("+ Lookahead averaging", "alternating_flips=false"),
    ("+ alternating flips (full recipe)", ""),
    ("full recipe in float32", "precision=float32"),
    ("full recipe with SiLU instead of GELU", "activation=silu"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        nargs="*",
        default=["widths=32,128,128", "epochs=4"],
        metavar="NAME=VALUE",
        help="settings of every row (default: widths=32,128,128 epochs=4)",
    )
    parser.add_argument("--run-dir", default="runs/keras_models/cifar10_speedrun_ablation")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).with_name("speedrun_ablation.json")
    )
    args = parser.parse_args()
    bfloat16 = speedrun.resolve_precision("auto") == "mixed_bfloat16"
    records = []
    for name, settings in STEPS:
        if name.endswith("float32") and not bfloat16:
            continue
        overrides = [*args.set, *settings.split()]
        started = time.perf_counter()
        config = speedrun.SpeedrunConfig(**speedrun.parse_overrides(overrides))
        record = speedrun.hold_out_run(config, args.run_dir, verbose=0)
        record.update(step=name, overrides=overrides, wall_seconds=time.perf_counter() - started)
        records.append(record)
        print(
            f"{name:40} hold-out {record['hold_out_accuracy_tta0']:.4f} / "
            f"{record['hold_out_accuracy_tta1']:.4f} / {record['hold_out_accuracy_tta2']:.4f} "
            f"in {record['train_seconds']:.0f} s ({record['precision_used']})",
            flush=True,
        )
        args.out.write_text(
            json.dumps(
                {
                    "machine": {"cpu": cpu_model(), "isa": vector_isa()},
                    "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "common_settings": args.set,
                    "records": records,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
