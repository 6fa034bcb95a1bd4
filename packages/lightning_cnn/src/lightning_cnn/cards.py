"""Model cards for the two graded models, from their finished work folders.

Usage::

    python -m lightning_cnn.cards runs/lightning_cnn/full packages/lightning_cnn/model_cards

reads ``<runs>/lightning_max`` and ``<runs>/keras_max`` (``result.json``, ``history.json``,
``test_predictions.npz``, written by the graded tasks) and writes
``animals3_cnn_lightning.{html,md,json}`` and ``animals3_cnn_keras.{html,md,json}`` with
:func:`a2common.model_cards.write_model_card`. Only finished runs are read: nothing is trained.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from lightning_cnn.config import CLASS_NAMES
from lightning_cnn.evaluation import load_history, load_predictions
from lightning_cnn.report import accuracy_interval
from lightning_cnn.tasks import RESULT_FILE

FRAMEWORKS = {
    "lightning": ("PyTorch Lightning", "grade_lightning_cnn",
                  "LightningModule + LightningDataModule (Pillow loader, torch-op augmentation), "
                  "ModelCheckpoint, EarlyStopping, TensorBoardLogger"),
    "keras": ("Keras 3 (TensorFlow backend)", "grade_keras_cnn",
              "functional model with in-model RandomFlip/RandomTranslation, "
              "image_dataset_from_directory + tf.data, BackupAndRestore, ModelCheckpoint, "
              "EarlyStopping, TensorBoard"),
}

ARCHITECTURE = ("Input 64x64x3 (scaled to [0, 1], normalised with the training split's channel "
                "mean/std) -> 5 blocks of 3x3 conv (no bias) + BatchNorm + ReLU with 16, 64, 128, "
                "256, 256 filters, 2x2 max pooling between blocks (64 -> 4 px) -> global average "
                "pooling -> dropout 0.3 -> dense 3 (logits).")

LIMITATIONS = [
    "Trained on 2,100 64x64 photos only; accuracy on other photo sources, resolutions or "
    "framings (close-ups, several animals, drawings) is unknown and likely lower.",
    "Cats vs dogs is the hard pair: most errors are confusions between them; pandas are "
    "almost always recognised.",
    "It always answers one of three classes, even for images that show none of them.",
    "The test set has 600 images, so the accuracy is known to about +-3 points (95% interval "
    "given in the metrics).",
]
ETHICS = [
    ("The photos are third-party (Kaggle Dogs vs. Cats / Asirra, ImageNet) with no stated "
     "licence.", "Use the model and the data for teaching and research only; see the datasheet."),
    ("Some photos show people (pet owners) in the background.",
     "The model is not meant for, and was not evaluated on, anything about people."),
]
USE_CASES = ["Teaching: the same CNN in Keras and PyTorch Lightning, trained from scratch.",
             "A baseline for small-image classification experiments on animals3."]


def write_cards(runs_dir: Path, out_dir: Path) -> list[Path]:
    """Write both cards from ``runs_dir/{lightning,keras}_max``; return the HTML paths."""
    import matplotlib

    matplotlib.use("Agg")
    from a2common.data import get_spec
    from a2common.model_cards import MetricEntry, write_model_card
    from a2common.plotting import plot_confusion_matrix, visualize_metrics

    data_file = get_spec("animals3").files[0]
    written = []
    for framework, (title, task, pieces) in FRAMEWORKS.items():
        work_dir = Path(runs_dir) / f"{framework}_max"
        if not (work_dir / RESULT_FILE).is_file():
            raise FileNotFoundError(f"{work_dir / RESULT_FILE} not found: run the task first "
                                    f"(python -m lightning_cnn.train {framework} {work_dir}).")
        result = json.loads((work_dir / RESULT_FILE).read_text())
        labels, probabilities = load_predictions(work_dir)
        predicted = probabilities.argmax(axis=1)
        low, high = accuracy_interval(labels == predicted)
        details = result["details"]
        config = details["config"]
        history = load_history(work_dir)
        curves = {k: history[k] for k in ("loss", "val_loss", "acc", "val_acc") if k in history}
        graphics = {
            "Learning curves (train and validation)": visualize_metrics(curves, title=title),
            "Test confusion matrix": plot_confusion_matrix(labels, predicted, CLASS_NAMES,
                                                           title=title),
        }
        per_class = {name: {"precision": details["per_class"][name]["precision"],
                            "recall": details["per_class"][name]["recall"],
                            "f1-score": details["per_class"][name]["f1-score"]}
                     for name in CLASS_NAMES}
        training = {
            "epochs": details.get("epochs_run"),
            "seconds": round(result["train_seconds"], 1),
            "parameters": details.get("parameters"),
            "command": f"python -m lightning_cnn.train {framework} {work_dir}  "
                       f"(graded: lightning_cnn.tasks.{task})",
            "optimizer": f"AdamW, peak lr {config['learning_rate']}, weight decay "
                         f"{config['weight_decay']}, warm-up + cosine schedule",
            "batch_size": config["batch_size"],
            "augmentation": "random horizontal flip, random translation <= "
                            f"{config['shift_px']} px",
            "label_smoothing": config["label_smoothing"],
            "hardware": "1 thread on a 2-core CPU shared with other jobs (wall time inflated)",
        }
        if details.get("train_cpu_seconds"):
            training["cpu_seconds"] = round(details["train_cpu_seconds"], 1)
        path = write_model_card(
            Path(out_dir), name=f"animals3_cnn_{framework}",
            title=f"animals3 CNN ({title})",
            overview=(f"A small convolutional network trained from scratch with {title} to tell "
                      "cats, dogs and pandas apart in 64x64 RGB photos (the project's animals3 "
                      f"dataset). Engineering: {pieces}. The same network and recipe are "
                      "trained in the other framework too; the two cards can be compared."),
            metrics=[MetricEntry("test accuracy", result["value"],
                                 confidence_interval=(low, high))],
            per_class=per_class,
            dataset="animals3 release 1.0 (2,100 train / 300 validation / 600 test, seeded "
                    "stratified split)",
            data_sha256={data_file.relpath: data_file.sha256},
            training=training, limitations=LIMITATIONS, ethical_considerations=ETHICS,
            use_cases=USE_CASES, graphics=graphics, architecture=ARCHITECTURE)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m lightning_cnn.cards --help``)."""
    parser = argparse.ArgumentParser(prog="python -m lightning_cnn.cards",
                                     description="Write the two model cards from finished runs.")
    parser.add_argument("runs_dir", type=Path, help="folder with lightning_max/ and keras_max/")
    parser.add_argument("out_dir", type=Path, help="where the cards go")
    args = parser.parse_args(argv)
    try:
        for path in write_cards(args.runs_dir, args.out_dir):
            print(f"wrote {path} (+ .md, .json)")
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
