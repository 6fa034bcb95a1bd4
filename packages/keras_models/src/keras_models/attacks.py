"""White-box L-infinity attacks on Keras classifiers, written with ``tf.GradientTape``.

Every attack takes a model that maps ``float32`` pixels in ``[0, 1]`` to class probabilities
(softmax outputs, as every model of this package) and integer labels, and returns adversarial
images that stay inside the ε-ball around the originals **and** inside the pixel range:

* :func:`fgsm`: one step of size ε along the sign of the loss gradient (Goodfellow et al., 2015).
* :func:`pgd`: ``steps`` signed-gradient steps of size ``step_size`` from a random start in the
  ball, projected back after each step (Madry et al., 2018).
* :func:`mim`: PGD with momentum on the L1-normalised gradient (Dong et al., 2018).

The issue's settings are the defaults: ε = 0.0313 (8/255), 20 steps of η = 0.002.
:func:`attack_dataset` runs one of them over a large array in batches.

Example:

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
...                           keras.layers.Dense(2, activation="softmax")])
>>> images = np.random.default_rng(0).random((8, 4, 4, 3), dtype=np.float32)
>>> adversarial = pgd(model, images, np.zeros(8, dtype=np.int64), steps=5)
>>> float(np.abs(adversarial - images).max()) <= EPSILON + 1e-6
True
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np
import tensorflow as tf

EPSILON = 0.0313
"""Radius of the L-infinity ball (8/255), the issue's ε."""
STEPS = 20
"""Iterations of PGD and MIM at evaluation (the issue's k)."""
STEP_SIZE = 0.002
"""Step size of PGD and MIM at evaluation (the issue's η)."""
PIXEL_RANGE = (0.0, 1.0)

Attack = Callable[..., np.ndarray]


def _check_inputs(images: Any, labels: Any, epsilon: float) -> tuple[tf.Tensor, tf.Tensor]:
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim < 2 or not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"Expected float images of shape (n, ...) with pixels in [0, 1]. "
            f"Received: images.shape={images.shape}, dtype={images.dtype}"
        )
    if images.size and (images.min() < PIXEL_RANGE[0] or images.max() > PIXEL_RANGE[1]):
        raise ValueError(
            f"Expected pixels in {PIXEL_RANGE}. Received: "
            f"min={images.min():.4g}, max={images.max():.4g}"
        )
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"Expected integer labels of shape ({len(images)},). "
            f"Received: labels.shape={labels.shape}, dtype={labels.dtype}"
        )
    if not epsilon > 0:
        raise ValueError(f"Expected epsilon > 0. Received: epsilon={epsilon}")
    return tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(labels, tf.int64)


def loss_gradient(model: Callable, images: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Gradient of the per-example cross-entropy of ``model`` with respect to ``images``."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        probabilities = model(images, training=False)
        loss = tf.keras.losses.sparse_categorical_crossentropy(labels, probabilities)
    return tape.gradient(loss, images)


def _project(adversarial: tf.Tensor, images: tf.Tensor, epsilon: float) -> tf.Tensor:
    """Back into the ε-ball around ``images`` and into the pixel range."""
    adversarial = tf.clip_by_value(adversarial, images - epsilon, images + epsilon)
    return tf.clip_by_value(adversarial, *PIXEL_RANGE)


def fgsm_tensor(
    model: Callable, images: tf.Tensor, labels: tf.Tensor, epsilon: float = EPSILON
) -> tf.Tensor:
    """:func:`fgsm` on tensors (usable inside a ``tf.function``)."""
    gradient = loss_gradient(model, images, labels)
    return _project(images + epsilon * tf.sign(gradient), images, epsilon)


def pgd_tensor(
    model: Callable,
    images: tf.Tensor,
    labels: tf.Tensor,
    epsilon: float = EPSILON,
    steps: int = STEPS,
    step_size: float = STEP_SIZE,
    random_start: bool = True,
    seed: int | None = None,
) -> tf.Tensor:
    """:func:`pgd` on tensors (usable inside a ``tf.function``, e.g. a training step)."""
    adversarial = images
    if random_start:
        noise = tf.random.uniform(tf.shape(images), -epsilon, epsilon, seed=seed)
        adversarial = _project(images + noise, images, epsilon)
    for _ in tf.range(steps):  # a graph loop inside tf.function: traced once, not unrolled
        gradient = loss_gradient(model, adversarial, labels)
        adversarial = _project(adversarial + step_size * tf.sign(gradient), images, epsilon)
    return adversarial


def mim_tensor(
    model: Callable,
    images: tf.Tensor,
    labels: tf.Tensor,
    epsilon: float = EPSILON,
    steps: int = STEPS,
    step_size: float = STEP_SIZE,
    decay: float = 1.0,
) -> tf.Tensor:
    """:func:`mim` on tensors."""
    adversarial = images
    momentum = tf.zeros_like(images)
    axes = list(range(1, len(images.shape)))
    for _ in tf.range(steps):  # a graph loop inside tf.function: traced once, not unrolled
        gradient = loss_gradient(model, adversarial, labels)
        # L1-normalise per example so the momentum weighs each step's direction equally
        scale = tf.reduce_mean(tf.abs(gradient), axis=axes, keepdims=True) + 1e-12
        momentum = decay * momentum + gradient / scale
        adversarial = _project(adversarial + step_size * tf.sign(momentum), images, epsilon)
    return adversarial


def fgsm(model: Callable, images: Any, labels: Any, epsilon: float = EPSILON) -> np.ndarray:
    """Fast gradient sign method: ``clip(x + ε·sign(∇ₓ loss))``.

    Args:
        model: maps pixels in ``[0, 1]`` to class probabilities.
        images: float array ``(n, h, w, c)`` in ``[0, 1]``.
        labels: integer labels ``(n,)``.
        epsilon: L-infinity radius.

    Example:

    >>> import keras
    >>> keras.utils.set_random_seed(0)
    >>> model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> images, labels = np.full((2, 4, 4, 3), 0.5, np.float32), np.array([0, 1])
    >>> adversarial = fgsm(model, images, labels)
    >>> adversarial.shape, adversarial.dtype
    ((2, 4, 4, 3), dtype('float32'))
    >>> np.allclose(np.abs(adversarial - images), EPSILON)  # every pixel moves by ε
    True
    """
    x, y = _check_inputs(images, labels, epsilon)
    return fgsm_tensor(model, x, y, epsilon).numpy()


def pgd(
    model: Callable,
    images: Any,
    labels: Any,
    epsilon: float = EPSILON,
    steps: int = STEPS,
    step_size: float = STEP_SIZE,
    random_start: bool = True,
    seed: int | None = None,
) -> np.ndarray:
    """Projected gradient descent (on the loss, ascending): ``steps`` signed steps of ``step_size``.

    Starts from a uniform random point of the ε-ball (``random_start``) and projects onto the
    ball and the pixel range after every step.

    Example:

    >>> import keras
    >>> keras.utils.set_random_seed(0)
    >>> model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> images = np.random.default_rng(0).random((4, 4, 4, 3), dtype=np.float32)
    >>> labels = np.array([0, 1, 0, 1])
    >>> adversarial = pgd(model, images, labels, steps=3, step_size=0.01, seed=0)
    >>> float(np.abs(adversarial - images).max()) <= EPSILON + 1e-6  # inside the ε-ball
    True
    >>> float(adversarial.min()) >= 0.0 and float(adversarial.max()) <= 1.0  # and pixel range
    True
    """
    x, y = _check_inputs(images, labels, epsilon)
    if steps < 1 or step_size <= 0:
        raise ValueError(
            f"Expected steps >= 1 and step_size > 0. Received: steps={steps}, step_size={step_size}"
        )
    return pgd_tensor(model, x, y, epsilon, steps, step_size, random_start, seed).numpy()


def mim(
    model: Callable,
    images: Any,
    labels: Any,
    epsilon: float = EPSILON,
    steps: int = STEPS,
    step_size: float = STEP_SIZE,
    decay: float = 1.0,
) -> np.ndarray:
    """Momentum iterative method: PGD steps along the sign of an accumulated, normalised gradient.

    Example:

    >>> import keras
    >>> keras.utils.set_random_seed(0)
    >>> model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> images = np.random.default_rng(0).random((4, 4, 4, 3), dtype=np.float32)
    >>> adversarial = mim(model, images, np.array([0, 1, 0, 1]), steps=3, decay=1.0)
    >>> adversarial.shape, float(np.abs(adversarial - images).max()) <= EPSILON + 1e-6
    ((4, 4, 4, 3), True)
    """
    x, y = _check_inputs(images, labels, epsilon)
    if steps < 1 or step_size <= 0:
        raise ValueError(
            f"Expected steps >= 1 and step_size > 0. Received: steps={steps}, step_size={step_size}"
        )
    return mim_tensor(model, x, y, epsilon, steps, step_size, decay).numpy()


ATTACKS: dict[str, Callable[..., tf.Tensor]] = {
    "fgsm": fgsm_tensor,
    "pgd": pgd_tensor,
    "mim": mim_tensor,
}


def attack_dataset(
    model: Callable,
    images: np.ndarray,
    labels: np.ndarray,
    attack: str,
    batch_size: int = 500,
    **settings: Any,
) -> np.ndarray:
    """Adversarial copies of a whole array, attacked ``batch_size`` images at a time.

    The batch step is compiled with ``tf.function`` once per model, attack and settings, and
    reused by later calls (a PGD monitor that attacks the same model after every epoch traces
    it once).

    Args:
        attack: ``"fgsm"``, ``"pgd"`` or ``"mim"``.
        settings: keyword arguments of that attack (``epsilon``, ``steps``, ``step_size``...).

    Example:

    >>> import keras
    >>> keras.utils.set_random_seed(0)
    >>> model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> images = np.random.default_rng(0).random((10, 4, 4, 3), dtype=np.float32)
    >>> labels = np.arange(10) % 2
    >>> attacked = attack_dataset(model, images, labels, "fgsm", batch_size=4)  # 3 batches
    >>> attacked.shape
    (10, 4, 4, 3)
    >>> np.allclose(attacked, fgsm(model, images, labels), atol=1e-6)  # same as all at once
    True
    >>> attack_dataset(model, images, labels, "cw")
    Traceback (most recent call last):
    ...
    ValueError: Expected attack in ('fgsm', 'pgd', 'mim'). Received: 'cw'
    """
    if attack not in ATTACKS:
        raise ValueError(f"Expected attack in {tuple(ATTACKS)}. Received: {attack!r}")
    _check_inputs(images, labels, settings.get("epsilon", EPSILON))
    step = _compiled_step(model, attack, settings)
    batches = []
    for start in range(0, len(images), batch_size):
        x = tf.convert_to_tensor(images[start : start + batch_size], tf.float32)
        y = tf.convert_to_tensor(np.asarray(labels[start : start + batch_size]), tf.int64)
        batches.append(step(x, y).numpy())
    return np.concatenate(batches)


_COMPILED_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Per model: the compiled batch step of each attack and settings (:func:`_compiled_step`)."""


def _compiled_step(model: Callable, attack: str, settings: dict[str, Any]) -> Callable:
    """``ATTACKS[attack]`` on ``model`` as a ``tf.function``, built once and then reused.

    The step reaches the model through a weak reference, so the cache does not keep a model
    alive; a model that cannot be weakly referenced gets a fresh step on every call.
    """
    try:
        model_ref = weakref.ref(model)
        steps = _COMPILED_STEPS.setdefault(model, {})
    except TypeError:  # not weakly referenceable, or not hashable
        return tf.function(lambda x, y: ATTACKS[attack](model, x, y, **settings))
    key = (attack, tuple(sorted(settings.items())))
    if key not in steps:
        steps[key] = tf.function(
            lambda x, y: ATTACKS[attack](model_ref(), x, y, **settings),
            reduce_retracing=True,
        )
    return steps[key]
