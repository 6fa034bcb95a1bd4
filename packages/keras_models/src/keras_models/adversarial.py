"""PGD adversarial training (Madry et al., 2018): minimise the loss on PGD-k examples.

Every training batch is replaced by its PGD-``steps`` adversarial copy (random start in the
ε-ball, :func:`keras_models.attacks.pgd_tensor` against the current weights) before the gradient
step, so one epoch costs about ``steps + 1`` clean epochs. Optionally, a few cheap epochs on the
clean images come first (``clean_epochs``, a warm start). The loop checkpoints the compiled model
(weights and optimizer state) and the history after every epoch under ``work_dir`` and resumes
from there; each epoch is reported to the autograder's progress line.

Example (a tiny classifier, 1 epoch of PGD-2 training on 16 random images):

>>> import tempfile
>>> keras.utils.set_random_seed(0)
>>> def build():
...     return keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
...                              keras.layers.Dense(2, activation="softmax")])
>>> rng = np.random.default_rng(0)
>>> images, labels = rng.random((16, 4, 4, 3), dtype=np.float32), np.arange(16) % 2
>>> config = AdversarialConfig(epochs=1, batch_size=8, steps=2, monitor_size=0)
>>> work_dir = Path(tempfile.mkdtemp())
>>> model, history, seconds = adversarial_fit(build, work_dir, images, labels, config)
epoch 1/1 (PGD training) loss=... train_accuracy=... s)
>>> sorted(history), (work_dir / MODEL_FILE).is_file()
(['loss', 'train_accuracy'], True)
>>> again = adversarial_fit(build, work_dir, images, labels, config)  # loaded: prints nothing
>>> again[1] == history
True
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split

from a2common.grading import finished_info, is_finished, mark_finished, stopwatch
from a2common.keras_training import HISTORY_FILE, MODEL_FILE, TENSORBOARD_DIR, tensorboard_callback
from a2common.progress import report_epoch
from keras_models.attacks import EPSILON, attack_dataset, pgd_tensor

CHECKPOINT_FILE = "checkpoint.keras"
STATE_FILE = "adversarial_state.json"


@dataclass(frozen=True)
class AdversarialConfig:
    """Settings of :func:`adversarial_fit`.

    Attributes:
        epochs, batch_size, learning_rate: Adam training (``epochs`` of PGD training).
        cosine_decay: decay the learning rate from ``learning_rate`` to zero along a cosine
            over the PGD epochs' steps (else constant).
        clean_epochs: epochs of ordinary training on the (flipped) clean images before the
            PGD epochs, at the constant ``learning_rate``: a warm start that costs about
            ``1 / (steps + 1)`` of a PGD epoch each.
        epsilon: radius of the training attack (the evaluation's ε).
        steps: PGD steps per training batch (the issue's k = 10).
        step_size: PGD step; 2/255 (≈ 2.5·ε/k, Madry et al.) so 10 steps can cross the ball.
        flip: random horizontal flips of the clean batch before the attack.
        monitor_size: validation images (a seeded, stratified subset) attacked with
            PGD-``steps`` after each epoch for the history's ``val_pgd_accuracy`` (0 = none).
    """

    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3
    cosine_decay: bool = False
    epsilon: float = EPSILON
    steps: int = 10
    step_size: float = 2 / 255
    flip: bool = True
    monitor_size: int = 500
    clean_epochs: int = 0


def adversarial_fit(
    build_model: Callable[[], keras.Model],
    work_dir: Path,
    images: np.ndarray,
    labels: np.ndarray,
    config: AdversarialConfig,
    *,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[keras.Model, dict[str, list[float]], float]:
    """Adversarially train ``build_model()`` with per-epoch checkpoints, or load the finished model.

    Args:
        build_model: returns an uncompiled softmax classifier of pixels in ``[0, 1]``.
        work_dir: checkpoints, ``model.keras`` and the history go here.
        images, labels: ``float32`` pixels ``(n, h, w, c)`` and integer labels ``(n,)``.
        validation: optional ``(images, labels)`` evaluated after each epoch (clean accuracy,
            and PGD accuracy on a stratified subset of ``config.monitor_size`` of them).

    Returns:
        ``(model, history, train_seconds)``; ``train_seconds`` sums all sessions of the run.
        The history has one entry per epoch, the ``clean_epochs`` first: ``loss`` and
        ``train_accuracy`` on the batches trained on (clean, then PGD), and with
        ``validation`` ``val_accuracy`` and ``val_pgd_accuracy``.
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(
            f"Expected a non-empty set with one label per image. Received: "
            f"{len(images)} images, {len(labels)} labels"
        )
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    if is_finished(work_dir) and (work_dir / MODEL_FILE).is_file():
        model = keras.saving.load_model(work_dir / MODEL_FILE)
        cached_history = json.loads((work_dir / HISTORY_FILE).read_text())
        return model, cached_history, float(finished_info(work_dir)["train_seconds"])

    state = _load_state(work_dir, config)
    if state["epochs_done"] and (work_dir / CHECKPOINT_FILE).is_file():
        model = keras.saving.load_model(work_dir / CHECKPOINT_FILE)
    else:
        state = {"config": asdict(config), "epochs_done": 0, "seconds": 0.0, "history": {}}
        model = build_model()
        learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = (
            config.learning_rate
        )
        if config.cosine_decay:
            steps_per_epoch = -(-len(images) // config.batch_size)
            # constant through the clean epochs (a "warm-up" from the rate to itself), then
            # a cosine to zero over the PGD epochs
            learning_rate = keras.optimizers.schedules.CosineDecay(
                config.learning_rate,
                decay_steps=config.epochs * steps_per_epoch,
                warmup_target=config.learning_rate if config.clean_epochs else None,
                warmup_steps=config.clean_epochs * steps_per_epoch,
            )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    optimizer = model.optimizer
    if not optimizer.built:  # its slot variables must exist before the step is traced
        optimizer.build(model.trainable_variables)
    train_steps = {
        attack: _make_train_step(model, optimizer, config, attack) for attack in (False, True)
    }
    total_epochs = config.clean_epochs + config.epochs
    dataset = tf.data.Dataset.from_tensor_slices((images, np.asarray(labels, np.int64)))
    history: dict[str, list[float]] = state["history"]
    monitored = (
        monitor_subset(validation[1], config.monitor_size)
        if validation is not None and config.monitor_size
        else None
    )
    # Keras' own TensorBoard callback, driven by hand: this loop is not model.fit
    board = tensorboard_callback(work_dir / TENSORBOARD_DIR)
    board.set_model(model)
    board.on_train_begin()

    for epoch in range(state["epochs_done"], total_epochs):
        adversarial = epoch >= config.clean_epochs
        train_step = train_steps[adversarial]
        with stopwatch() as timer:
            # one shuffle order per epoch, so a resumed run sees the same batches
            batches = dataset.shuffle(len(images), seed=seed * 1000 + epoch).batch(
                config.batch_size
            )
            loss_sum, correct, seen = 0.0, 0.0, 0
            for batch_images, batch_labels in batches:
                loss, hits = train_step(batch_images, batch_labels)
                count = int(batch_labels.shape[0])
                loss_sum += float(loss) * count
                correct += float(hits)
                seen += count
            logs = {"loss": loss_sum / seen, "train_accuracy": correct / seen}
            if validation is not None:
                logs.update(_validate(model, *validation, config, monitored))
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
        state.update(
            epochs_done=epoch + 1, seconds=state["seconds"] + timer["seconds"], history=history
        )
        model.save(work_dir / CHECKPOINT_FILE)
        (work_dir / STATE_FILE).write_text(json.dumps(state))
        board.on_epoch_end(epoch, logs)
        stage = "PGD training" if adversarial else "clean warm start"
        report_epoch(epoch + 1, total_epochs, logs, stage=stage)
        print(
            f"epoch {epoch + 1}/{total_epochs} ({stage}) "
            + " ".join(f"{k}={v:.4f}" for k, v in logs.items())
            + f" ({timer['seconds']:.0f} s)",
            flush=True,
        )

    board.on_train_end()
    model.save(work_dir / MODEL_FILE)
    (work_dir / HISTORY_FILE).write_text(json.dumps(history))
    mark_finished(work_dir, state["seconds"], epochs=total_epochs)
    (work_dir / CHECKPOINT_FILE).unlink(missing_ok=True)
    return model, history, state["seconds"]


def _load_state(work_dir: Path, config: AdversarialConfig) -> dict:
    """The saved progress, if it belongs to the same settings (else a fresh start)."""
    path = work_dir / STATE_FILE
    if path.is_file():
        state = json.loads(path.read_text())
        if state.get("config") == asdict(config):
            return state
    return {"config": asdict(config), "epochs_done": 0, "seconds": 0.0, "history": {}}


def _make_train_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    config: AdversarialConfig,
    attack: bool = True,
) -> Callable:
    """One gradient step on the batch's PGD copy (``attack``) or on the batch itself."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function
    def train_step(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if config.flip:
            images = tf.image.random_flip_left_right(images)
        if attack:
            images = pgd_tensor(
                model,
                images,
                labels,
                config.epsilon,
                config.steps,
                config.step_size,
                random_start=True,
            )
        with tf.GradientTape() as tape:
            probabilities = model(images, training=True)
            loss = loss_fn(labels, probabilities)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        hits = tf.reduce_sum(tf.cast(tf.argmax(probabilities, axis=1) == labels, tf.float32))
        return loss, hits

    return train_step


def monitor_subset(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Indices of a seeded, stratified subset of ``size`` examples (all of them if fewer).

    The PGD monitor attacks this subset after each epoch: a class-ordered validation split's
    first ``size`` examples would all belong to one class.

    Example:

    >>> labels = np.repeat(np.arange(3), 100)  # ordered by class
    >>> np.bincount(labels[monitor_subset(labels, 30)]).tolist()
    [10, 10, 10]
    """
    labels = np.asarray(labels)
    if size >= len(labels):
        return np.arange(len(labels))
    chosen, _ = train_test_split(
        np.arange(len(labels)), train_size=size, stratify=labels, random_state=seed
    )
    return np.sort(chosen)


def _validate(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    config: AdversarialConfig,
    monitored: np.ndarray | None,
) -> dict[str, float]:
    """Clean validation accuracy, and PGD accuracy on the ``monitored`` indices (the stratified
    subset of :func:`monitor_subset`, chosen once per run), if any."""
    logs = {
        "val_accuracy": float(
            np.mean(model.predict(images, batch_size=500, verbose=0).argmax(axis=1) == labels)
        )
    }
    if monitored is not None:
        x, y = images[monitored], np.asarray(labels)[monitored]
        attacked = attack_dataset(
            model,
            x,
            y,
            "pgd",
            epsilon=config.epsilon,
            steps=config.steps,
            step_size=config.step_size,
        )
        logs["val_pgd_accuracy"] = float(
            np.mean(model.predict(attacked, batch_size=500, verbose=0).argmax(axis=1) == y)
        )
    return logs
