"""Model-card prose shared by the graded MNIST, Fashion-MNIST and CIFAR-10 tasks.

The autograder adds every number to a card; a task writes only what the numbers cannot say
(what the model is, what it was trained on, where it fails). :func:`vision_card_text` fills a
:class:`a2common.grading.ModelCardText` from the dataset's paragraphs in :data:`DATASET_TEXT`.

Example:

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
>>> card = vision_card_text("A tiny model.", "mnist", model, " Adam, 1 epoch.")
>>> card.training_data.endswith("Adam, 1 epoch."), card.missing_sections()
(True, [])
"""

from __future__ import annotations

from typing import Any

from a2common.grading import ModelCardText
from a2common.tables import keras_layer_table

__all__ = ["DATASET_TEXT", "vision_card_text"]

DATASET_TEXT: dict[str, tuple[str, str, list[str], list[str]]] = {
    "mnist": (
        "MNIST training split: 60,000 28x28 grey-scale digits, official order.",
        "MNIST test split: the official 10,000 digits, never used for training or model selection.",
        [
            "Digit class.",
            "Writer population: US Census employees and high-school "
            "students; other handwriting is not represented.",
        ],
        [
            "Trained only on centred, size-normalised white-on-black digits: other "
            "handwriting styles, colours, positions or scanned documents need new data."
        ],
    ),
    "fashion_mnist": (
        "Fashion-MNIST training split: 60,000 28x28 grey-scale Zalando product "
        "photos (Debian package dataset-fashion-mnist).",
        "Fashion-MNIST test split: the official 10,000 images.",
        ["Clothing class: shirt, T-shirt/top, pullover and coat are the commonest confusions."],
        [
            "Centred product photos on a plain background only; real-world photos "
            "of clothing are out of distribution."
        ],
    ),
    "cifar10": (
        "CIFAR-10 training split: 50,000 32x32 colour photos (decoded from the "
        "quality-75 JPEG copy in shared/data).",
        "CIFAR-10 test split: the official 10,000 photos.",
        [
            "Object class: cat/dog and automobile/truck are the commonest confusions.",
            "Image quality: the photos were re-encoded as JPEG, so accuracy on the "
            "original PNG-quality images may differ slightly.",
        ],
        ["32x32 images of the 10 CIFAR-10 classes only: anything else is forced into one of them."],
    ),
}


def vision_card_text(
    overview: str,
    dataset: str,
    model: Any,
    settings: str,
    intended_use: str = "Teaching: a worked example of a Keras image classifier and of how far "
    "a small model gets on this dataset.",
    extra_caveats: tuple[str, ...] = (),
) -> ModelCardText:
    """The model card's prose of a graded image classifier trained on ``dataset``.

    ``settings`` (the training settings, one or more sentences starting with a space) is
    appended to the dataset's training-data paragraph.
    """
    training, evaluation, factors, caveats = DATASET_TEXT[dataset]
    return ModelCardText(
        overview=overview,
        architecture=keras_layer_table(model),
        intended_uses=[intended_use],
        intended_users=["Students and instructors of an introductory deep-learning course."],
        out_of_scope_uses=["Decisions about people, documents or products."],
        factors=factors,
        training_data=training + settings,
        evaluation_data=evaluation,
        ethical_considerations=[
            ("Not for decisions about people.", "Use only as a teaching example.")
        ],
        caveats=[
            *caveats,
            "One seed; differences of a few tenths of a percent between runs "
            "are within seed-to-seed noise.",
            *extra_caveats,
        ],
    )
