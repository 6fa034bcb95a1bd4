"""``Sequential``: a stack of layers with Keras' ``compile`` / ``fit`` / ``evaluate`` / ``predict``.

Training is the loop every framework hides, written out: shuffle (seeded per epoch), cut into
mini-batches, and for each batch ``batch_step`` runs the forward pass inside a
:class:`~autograd.tensor.GradientTape`, takes the gradients of the loss with respect to the
trainable variables and lets the optimizer update them in place.

Checkpoints are ``.npz`` files (no pickle): :meth:`Sequential.save_weights`,
:meth:`Sequential.save` (weights + architecture + optimizer, reloaded by :func:`load_model`) and
the training state used by :class:`~autograd.callbacks.BackupAndRestore`.

Example:

>>> import numpy as np
>>> from autograd import Sequential, layers
>>> x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
>>> y = np.eye(2, dtype="float32")[(x[:, 0] > 0).astype(int)]
>>> model = Sequential([layers.Input((2,)), layers.Dense(2)])
>>> model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
>>> model.loss.from_logits = True
>>> history = model.fit(x, y, epochs=2, batch_size=16, seed=0, verbose=0)
>>> sorted(history.history)
['accuracy', 'loss']
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Literal, Sequence, overload

import numpy as np

from autograd import callbacks as callbacks_module
from autograd import layers as layers_module
from autograd import losses as losses_module
from autograd import metrics as metrics_module
from autograd import optimizers as optimizers_module
from autograd import rng
from autograd.tensor import GradientTape, Tensor, TensorLike, Variable

_FORMAT_VERSION = 1


def _to_json_array(value: Any) -> np.ndarray:
    return np.array(json.dumps(value))


def _from_json_array(array: np.ndarray) -> Any:
    return json.loads(str(array))


def save_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (a crash never leaves a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            # numpy's stub of savez(file, *args, allow_pickle=..., **kwds) reads **arrays as
            # possibly holding allow_pickle: no key here is a keyword name. (unused-ignore: the
            # tox lint environment has no numpy, so np is Any there.)
            np.savez(stream, **arrays)  # type: ignore[arg-type, unused-ignore]
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def load_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read an ``.npz`` written by :func:`save_npz` (pickle disabled).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: naming the file, if it is truncated, corrupt or not an ``.npz`` archive.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"Expected a checkpoint file. Received: path={str(path)!r}, which does not exist."
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise ValueError("a single .npy array, not an .npz archive")
            return {key: archive[key] for key in archive.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(
            f"Expected a readable .npz file written by save/save_weights. "
            f"Received: {str(path)!r}, which is truncated, corrupt or not an "
            f".npz archive ({type(error).__name__}: {error})"
        ) from error


def _check_batch_size(batch_size: Any) -> None:
    if (
        isinstance(batch_size, (bool, np.bool_))
        or not isinstance(batch_size, (int, np.integer))
        or batch_size <= 0
    ):
        raise ValueError(
            f"Expected a positive integer batch_size. Received: batch_size={batch_size!r}"
        )


class Sequential:
    """A linear stack of layers.

    Args:
        layers: the layers, in order; may start with :func:`autograd.layers.Input`.
        name: model name.

    Example:

    >>> from autograd import layers
    >>> model = Sequential([layers.Input((784,)), layers.Dense(128, activation="relu"),
    ...                     layers.Dense(10)])
    >>> model.count_params()
    101770
    """

    def __init__(
        self, layers: Sequence[layers_module.Layer] | None = None, name: str = "sequential"
    ) -> None:
        self.name = name
        self.layers: list[layers_module.Layer] = []
        for layer in layers or []:
            self.add(layer)
        self.optimizer: optimizers_module.Optimizer | None = None
        self.loss: Any = None
        self.metrics: list[metrics_module.Metric] = []
        self.loss_tracker = metrics_module.Mean(name="loss")
        self.stop_training = False
        self.history: callbacks_module.History | None = None
        self.input_shape: tuple[int | None, ...] | None = None
        self._initial_epoch = 0
        self._fit_seed: int | None = None
        input_layer = next(
            (layer for layer in self.layers if isinstance(layer, layers_module.InputLayer)), None
        )
        if input_layer is not None:
            self.build((None, *input_layer.shape))

    # ------------------------------------------------------------------------- structure
    def add(self, layer: layers_module.Layer) -> None:
        """Append a layer."""
        if not isinstance(layer, layers_module.Layer):
            raise TypeError(
                f"Expected a Layer instance. Received: {type(layer).__name__} ({layer!r})"
            )
        self.layers.append(layer)

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype if self.layers else np.dtype("float32")

    @property
    def built(self) -> bool:
        return self.input_shape is not None

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Create all weights for inputs of ``input_shape`` (batch axis may be ``None``)."""
        shape = tuple(input_shape)
        self.input_shape = shape
        for layer in self.layers:
            layer.ensure_built(shape)
            shape = layer.compute_output_shape(shape)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def output_shape(self) -> tuple[int | None, ...]:
        return self.compute_output_shape(self._require_built("output_shape"))

    def __call__(self, inputs: TensorLike, training: bool = False) -> Tensor:
        """Run the layers in order (``training`` switches dropout and batch-norm behaviour)."""
        if not self.layers:
            raise ValueError("The model has no layers. Add layers with model.add(layer).")
        if not self.built:
            shape = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs).shape
            self.build((None, *shape[1:]))
        out = self.layers[0](inputs, training=training)
        for layer in self.layers[1:]:
            out = layer(out, training=training)
        return out

    call = __call__

    @property
    def weights(self) -> list[Variable]:
        """All variables, layer by layer (the order used by checkpoints)."""
        return [w for layer in self.layers for w in layer.weights]

    variables = weights

    @property
    def trainable_variables(self) -> list[Variable]:
        return [w for layer in self.layers for w in layer.trainable_weights]

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all variable values."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, values: Sequence[np.ndarray]) -> None:
        """Assign values in :attr:`weights` order."""
        weights = self.weights
        if len(values) != len(weights):
            raise ValueError(
                f"Expected {len(weights)} arrays, one per model variable. "
                f"Received: {len(values)} arrays"
            )
        for weight, value in zip(weights, values):
            weight.assign(value)

    def count_params(self) -> int:
        self._require_built("count_params")
        return sum(w.size for w in self.weights)

    def summary(self, print_fn: Callable[[str], None] = print) -> None:
        """Print one row per layer: name, type, output shape and parameter count."""
        shape = self._require_built("summary")
        rows = [("Layer (type)", "Output shape", "Params")]
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
            rows.append(
                (f"{layer.name} ({type(layer).__name__})", str(shape), f"{layer.count_params():,}")
            )
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        rule = "-" * (sum(widths) + 4)
        print_fn(f'Model: "{self.name}"')
        print_fn(rule)
        for i, row in enumerate(rows):
            print_fn(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}")
            if i == 0:
                print_fn(rule)
        print_fn(rule)
        trainable = sum(w.size for w in self.trainable_variables)
        print_fn(f"Total params: {self.count_params():,} (trainable: {trainable:,})")

    # -------------------------------------------------------------------------- compile
    def compile(
        self,
        optimizer: optimizers_module.OptimizerLike = "rmsprop",
        loss: losses_module.LossLike | None = None,
        metrics: Sequence[metrics_module.MetricLike] | None = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics (by name or instance).

        Example:

        >>> from autograd import layers, optimizers
        >>> model = Sequential([layers.Dense(10)])
        >>> model.compile(optimizers.Adam(1e-3), "categorical_crossentropy", ["accuracy"])
        >>> [m.name for m in model.metrics]
        ['accuracy']
        """
        if loss is None:
            raise ValueError(
                "Expected a loss, e.g. compile(loss='categorical_crossentropy'). "
                "Received: loss=None"
            )
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        sparse = bool(getattr(self.loss, "sparse", False))
        self.metrics = [self._resolve_metric(m, sparse) for m in metrics or []]

    def _resolve_metric(
        self, metric: metrics_module.MetricLike, sparse: bool
    ) -> metrics_module.Metric:
        """``"accuracy"`` means binary accuracy for a binary cross-entropy loss (as in Keras)."""
        if (
            isinstance(metric, str)
            and metric.lower() in ("accuracy", "acc")
            and isinstance(self.loss, losses_module.BinaryCrossentropy)
        ):
            return metrics_module.BinaryAccuracy(threshold=0.0 if self.loss.from_logits else 0.5)
        return metrics_module.get(metric, sparse_labels=sparse)

    def _require_compiled(self, method: str) -> optimizers_module.Optimizer:
        """The optimizer, or a clear error when ``compile`` has not been called."""
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"You must call compile(optimizer, loss) before {method}().")
        return self.optimizer

    def _require_built(self, what: str) -> tuple[int | None, ...]:
        """The input shape, or a clear error when the model is not built."""
        if self.input_shape is None:
            raise ValueError(
                f"The model is not built yet, so {what} is unknown. Call "
                "model.build(input_shape), start it with layers.Input(shape), or "
                "call it on data first."
            )
        return self.input_shape

    def reset_metrics(self) -> None:
        self.loss_tracker.reset_state()
        for metric in self.metrics:
            metric.reset_state()

    def _running_logs(self) -> dict[str, float]:
        logs = {"loss": self.loss_tracker.result()}
        for metric in self.metrics:
            logs[metric.name] = metric.result()
        return logs

    # ------------------------------------------------------------------------ one batch
    def batch_step(self, x: TensorLike, y: Any, training: bool = True) -> dict[str, float]:
        """Forward one batch, and (if ``training``) backpropagate and update the weights.

        Also accumulates the loss and metrics into the model's running (per-epoch) state.

        Returns:
            The loss and metrics **of this batch**, e.g. ``{"loss": 0.3, "accuracy": 0.9}``.
        """
        optimizer = self._require_compiled("batch_step")
        if training:
            with GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.loss(y, y_pred)
            variables = self.trainable_variables
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
        else:
            y_pred = self(x, training=False)
            loss = self.loss(y, y_pred)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise ValueError(
                f"Expected a finite loss. Received: loss={loss_value} at optimizer "
                f"step {optimizer.iterations}; the training diverged (try a "
                "lower learning rate) or the inputs contain extreme values."
            )
        batch_size = len(y_pred.data)
        logs = {"loss": loss_value}
        self.loss_tracker.update_state(loss_value, sample_weight=batch_size)
        for metric in self.metrics:
            total, count = metric.total, metric.count
            metric.update_state(y, y_pred)
            delta = metric.count - count
            logs[metric.name] = (metric.total - total) / delta if delta else 0.0
        return logs

    # ------------------------------------------------------------------------- data checks
    def _check_x(self, x: Any, name: str = "x") -> np.ndarray:
        array = np.asarray(x.data if isinstance(x, Tensor) else x)
        if array.dtype.kind not in "fiub":
            raise ValueError(
                f"Expected numeric {name} (float, int or bool). "
                f"Received: {name}.dtype={array.dtype}"
            )
        if array.ndim < 1 or len(array) == 0:
            raise ValueError(
                f"Expected {name} with at least one example. Received: {name}.shape={array.shape}"
            )
        if self.input_shape is not None and tuple(array.shape[1:]) != self.input_shape[1:]:
            expected = ("batch", *self.input_shape[1:])
            raise ValueError(
                f"Expected {name} of shape ({', '.join(map(str, expected))}) to "
                f"match the model input. Received: {name}.shape={array.shape}"
            )
        array = array.astype(self.dtype, copy=False)
        if not np.isfinite(array).all():
            bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
            raise ValueError(
                f"Expected finite values in {name}. Received: {name} contains "
                f"{bad} NaN or inf values"
            )
        return array

    def _check_y(self, y: Any, x: np.ndarray, name: str = "y") -> np.ndarray:
        array = np.asarray(y.data if isinstance(y, Tensor) else y)
        if array.dtype.kind not in "fiub":
            raise ValueError(f"Expected numeric {name}. Received: {name}.dtype={array.dtype}")
        if len(array) != len(x):
            raise ValueError(
                f"Expected x and {name} to have the same number of examples. "
                f"Received: x.shape={x.shape}, {name}.shape={array.shape}"
            )
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(
                f"Expected finite values in {name}. Received: {name} contains NaN or inf values"
            )
        if not self.built:
            self.build((None, *x.shape[1:]))
        out_shape = self.output_shape
        if getattr(self.loss, "sparse", False):
            if array.ndim != 1:
                raise ValueError(
                    f"Expected integer labels of shape (n,) for loss "
                    f"{self.loss.name!r}. Received: {name}.shape={array.shape}"
                )
        elif callable(self.loss) and isinstance(self.loss, losses_module.Loss):
            if array.ndim == 1 and tuple(out_shape[1:]) == (1,):
                array = array[:, None]  # labels (n,) for an (n, 1) output, as Keras allows
            if tuple(array.shape[1:]) != tuple(out_shape[1:]):
                hint = (
                    " Encode integer labels with autograd.preprocessing.OneHotEncoder or use "
                    "loss='sparse_categorical_crossentropy'."
                    if array.ndim == 1
                    else ""
                )
                expected = ", ".join(map(str, ("n", *out_shape[1:])))
                raise ValueError(
                    f"Expected {name} of shape ({expected}) to match the model "
                    f"output. Received: {name}.shape={array.shape}.{hint}"
                )
            array = array.astype(self.dtype, copy=False)
        return array

    # -------------------------------------------------------------------------------- fit
    def fit(
        self,
        x: Any,
        y: Any,
        epochs: int = 1,
        batch_size: int = 32,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float = 0.0,
        callbacks: Sequence[callbacks_module.Callback] | None = None,
        shuffle: bool = True,
        seed: int | None = None,
        verbose: int = 1,
        initial_epoch: int = 0,
    ) -> callbacks_module.History:
        """Train for ``epochs`` passes over ``(x, y)`` in shuffled mini-batches.

        Args:
            x: inputs, ``(n, ...)`` matching the model input.
            y: targets (one-hot ``(n, classes)`` for categorical losses).
            epochs: index of the last epoch (training runs ``initial_epoch .. epochs - 1``).
            batch_size: examples per gradient step (the last batch may be smaller).
            validation_data: ``(x_val, y_val)`` evaluated after every epoch (``val_*`` logs).
            validation_split: fraction of ``(x, y)`` (taken from the end, before shuffling)
                to hold out for validation, if ``validation_data`` is not given.
            callbacks: e.g. ``EarlyStopping``, ``ModelCheckpoint``, ``BackupAndRestore``.
            shuffle: reshuffle the training data each epoch.
            seed: seed of the shuffling (epoch ``e`` uses ``default_rng([seed, e])``).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            initial_epoch: epoch to start from (for resuming by hand).

        Returns:
            A :class:`~autograd.callbacks.History` whose ``history`` maps each log name to one
            value per epoch.
        """
        self._require_compiled("fit")
        _check_batch_size(batch_size)
        x = self._check_x(x)
        y = self._check_y(y, x)
        if validation_data is None and validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(
                    f"Expected 0 < validation_split < 1. "
                    f"Received: validation_split={validation_split}"
                )
            cut = int(len(x) * (1.0 - validation_split))
            validation_data = (x[cut:], y[cut:])
            x, y = x[:cut], y[:cut]
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError(
                    "Expected validation_data=(x_val, y_val). Received a "
                    f"{type(validation_data).__name__} of length "
                    f"{len(validation_data)}"
                )
            x_val = self._check_x(validation_data[0], "x_val")
            y_val = self._check_y(validation_data[1], x_val, "y_val")
        steps = math.ceil(len(x) / batch_size)
        user_callbacks = list(callbacks or [])
        # Restoring a backup must come after every other callback has reset itself.
        ordered = [
            cb for cb in user_callbacks if not isinstance(cb, callbacks_module.BackupAndRestore)
        ] + [cb for cb in user_callbacks if isinstance(cb, callbacks_module.BackupAndRestore)]
        self.history = callbacks_module.History()
        all_callbacks = [self.history, *ordered]
        if verbose:
            all_callbacks.append(callbacks_module.ProgbarLogger(verbose))
        callback_list = callbacks_module.CallbackList(
            all_callbacks,
            self,
            {
                "epochs": epochs,
                "steps": steps,
                "batch_size": batch_size,
                "verbose": verbose,
                "callbacks": ordered,
            },
        )
        self._fit_seed = rng.draw_seed() if seed is None else int(seed)
        self._initial_epoch = initial_epoch
        self.stop_training = False
        callback_list.call("on_train_begin", None)
        for epoch in range(self._initial_epoch, epochs):
            self.reset_metrics()
            callback_list.call("on_epoch_begin", epoch, None)
            order = (
                np.random.default_rng([self._fit_seed, epoch]).permutation(len(x))
                if shuffle
                else np.arange(len(x))
            )
            for step in range(steps):
                batch = order[step * batch_size : (step + 1) * batch_size]
                self.batch_step(x[batch], y[batch], training=True)
                callback_list.call("on_train_batch_end", step, self._running_logs())
            epoch_logs = self._running_logs()
            if validation_data is not None:
                val_logs = self.evaluate(x_val, y_val, batch_size=batch_size, return_dict=True)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, epoch_logs)
            if self.stop_training:
                break
        callback_list.call("on_train_end", None)
        return self.history

    # ------------------------------------------------------------------------ inference
    @overload
    def evaluate(
        self,
        x: Any,
        y: Any,
        batch_size: int = ...,
        verbose: int = ...,
        *,
        return_dict: Literal[True],
    ) -> dict[str, float]: ...

    @overload
    def evaluate(
        self, x: Any, y: Any, batch_size: int = ..., verbose: int = ..., return_dict: bool = ...
    ) -> float | list[float] | dict[str, float]: ...

    def evaluate(
        self, x: Any, y: Any, batch_size: int = 32, verbose: int = 0, return_dict: bool = False
    ) -> float | list[float] | dict[str, float]:
        """Loss and metrics on ``(x, y)`` in inference mode (no graph is recorded).

        Returns:
            ``loss`` alone if there are no metrics, else ``[loss, *metrics]``, or a dict if
            ``return_dict``.
        """
        self._require_compiled("evaluate")
        _check_batch_size(batch_size)
        x = self._check_x(x)
        y = self._check_y(y, x)
        self.reset_metrics()
        for start in range(0, len(x), batch_size):
            self.batch_step(
                x[start : start + batch_size], y[start : start + batch_size], training=False
            )
        logs = self._running_logs()
        if verbose:
            print(callbacks_module.format_logs(logs))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Model outputs for ``x`` as a numpy array, computed in batches without a graph."""
        _check_batch_size(batch_size)
        x = self._check_x(x)
        outputs = [
            self(x[start : start + batch_size], training=False).data
            for start in range(0, len(x), batch_size)
        ]
        return np.concatenate(outputs, axis=0)

    # ------------------------------------------------------------------------ save / load
    def _weight_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for i, weight in enumerate(self.weights):
            arrays[f"variable/{i}"] = weight.data
        arrays["variable_names"] = np.array([w.name or "" for w in self.weights])
        for i, layer in enumerate(self.layers):
            for key, value in layer.get_extra_state().items():
                arrays[f"layer_state/{i}/{key}"] = np.asarray(value)
        input_shape = self._require_built("the weight layout")
        arrays["input_shape"] = np.array([-1 if n is None else n for n in input_shape])
        arrays["format_version"] = np.array(_FORMAT_VERSION)
        return arrays

    def _restore_weights(self, arrays: dict[str, np.ndarray], source: str) -> None:
        if not self.built:
            if "input_shape" not in arrays:
                self._require_built("the weight layout")
            self.build(tuple(None if n < 0 else int(n) for n in arrays["input_shape"]))
        weights = self.weights
        stored = sum(1 for key in arrays if key.startswith("variable/"))
        if stored != len(weights):
            raise ValueError(
                f"Expected a checkpoint with {len(weights)} variables for this "
                f"model. Received: {stored} variables in {source!r}"
            )
        names = arrays.get("variable_names", np.array([""] * stored))
        for i, weight in enumerate(weights):
            value = arrays[f"variable/{i}"]
            if value.shape != weight.shape:
                raise ValueError(
                    f"Expected shape {weight.shape} for variable {weight.name!r}. "
                    f"Received: shape {value.shape} (saved as {str(names[i])!r}) "
                    f"in {source!r}"
                )
        for i, weight in enumerate(weights):
            weight.assign(arrays[f"variable/{i}"])
        for i, layer in enumerate(self.layers):
            prefix = f"layer_state/{i}/"
            state = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            if state:
                layer.set_extra_state(state)

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Save all variables (and layer RNG state) to an ``.npz`` file."""
        self._require_built("the weight layout")
        save_npz(path, self._weight_arrays())

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Load what :meth:`save_weights` wrote; shapes must match this architecture."""
        self._restore_weights(load_npz(path), str(path))

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "layers": [layers_module.serialize(layer) for layer in self.layers],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Sequential":
        return cls(
            [layers_module.deserialize(layer) for layer in config["layers"]],
            name=config.get("name", "sequential"),
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save architecture, weights and (if compiled) optimizer/loss/metrics to one ``.npz``.

        Reload with :func:`load_model`.
        """
        arrays = self._weight_arrays()
        compile_config = None
        if self.optimizer is not None:
            compile_config = {
                "optimizer": optimizers_module.serialize(self.optimizer),
                "loss": (
                    losses_module.serialize(self.loss)
                    if isinstance(self.loss, losses_module.Loss)
                    else None
                ),
                "metrics": [
                    m.name
                    if not isinstance(m, metrics_module.CategoricalAccuracy)
                    else "categorical_accuracy"
                    for m in self.metrics
                ],
            }
            arrays.update({f"optimizer/{k}": v for k, v in self.optimizer.get_state().items()})
        arrays["model_config"] = _to_json_array(
            {"config": self.get_config(), "compile": compile_config}
        )
        save_npz(path, arrays)

    # ------------------------------------------------------------------- training state
    def save_training_state(
        self, path: str | os.PathLike[str], epoch: int, extra: dict[str, np.ndarray] | None = None
    ) -> None:
        """Everything needed to resume ``fit`` after ``epoch`` (used by BackupAndRestore)."""
        arrays = self._weight_arrays()
        optimizer = self._require_compiled("save_training_state")
        arrays.update({f"optimizer/{k}": v for k, v in optimizer.get_state().items()})
        arrays.update(extra or {})
        meta = {
            "epoch": epoch,
            "fit_seed": self._fit_seed,
            "history": self.history.history if self.history else {},
            "history_epochs": self.history.epoch if self.history else [],
        }
        arrays["training_meta"] = _to_json_array(meta)
        save_npz(path, arrays)

    def load_training_state(self, path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
        """Restore a state saved by :meth:`save_training_state`; ``fit`` then continues with
        the next epoch. Returns the raw arrays (callbacks read their own keys)."""
        arrays = load_npz(path)
        if "training_meta" not in arrays:
            raise ValueError(
                f"Expected a training-state checkpoint written by "
                f"save_training_state. Received: {str(path)!r} without "
                "'training_meta'"
            )
        self._restore_weights(arrays, str(path))
        prefix = "optimizer/"
        self._require_compiled("load_training_state").set_state(
            {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)},
            self.weights,
            saved_names=arrays.get("variable_names"),
        )
        meta = _from_json_array(arrays["training_meta"])
        self._initial_epoch = int(meta["epoch"]) + 1
        self._fit_seed = int(meta["fit_seed"])
        if self.history is not None:
            self.history.history = {k: list(v) for k, v in meta["history"].items()}
            self.history.epoch = list(meta["history_epochs"])
        return arrays


def load_model(path: str | os.PathLike[str], compile: bool = True) -> Sequential:
    """Rebuild a model saved with :meth:`Sequential.save` (weights, and optimizer state if it
    was compiled).

    Example:

    >>> import tempfile, os
    >>> from autograd import layers
    >>> model = Sequential([layers.Input((3,)), layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> model.save(path)
    >>> restored = load_model(path)
    >>> all((a == b).all() for a, b in zip(model.get_weights(), restored.get_weights()))
    True
    """
    arrays = load_npz(path)
    if "model_config" not in arrays:
        raise ValueError(
            f"Expected a file written by Sequential.save. Received: {str(path)!r} "
            "without a model config (was it written by save_weights?)"
        )
    try:
        saved = _from_json_array(arrays["model_config"])
    except ValueError as error:
        raise ValueError(
            f"Expected a JSON model config in {str(path)!r}. Received: an unreadable one ({error})"
        ) from error
    model = Sequential.from_config(saved["config"])
    model._restore_weights(arrays, str(path))
    compile_config = saved.get("compile")
    if compile and compile_config and compile_config.get("loss"):
        optimizer = optimizers_module.get(compile_config["optimizer"])
        model.compile(
            optimizer=optimizer,
            loss=losses_module.get(compile_config["loss"]),
            metrics=compile_config["metrics"],
        )
        prefix = "optimizer/"
        state = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        if state:
            optimizer.set_state(state, model.weights, saved_names=arrays.get("variable_names"))
    return model


__all__ = ["Sequential", "load_model", "load_npz", "save_npz"]
