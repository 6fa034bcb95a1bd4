"""Multiply-add counting by hand, training FLOPs, the CPU facts and the matrix-product peak."""

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import pytest

from a2common.compute import (
    count_multiply_adds,
    layer_multiply_adds,
    measure_matmul_peak,
    training_flops,
)
from a2common.machine import VECTOR_ISA_PREFIXES, cpu_model, vector_isa


def test_each_counted_layer_type_by_hand():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="conv")(inputs)  # 8x8x8
    x = keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(x)
    x = keras.layers.SeparableConv2D(4, 3, padding="valid", name="sep")(x)  # 6x6x4
    x = keras.layers.Conv2D(4, 1, groups=2, name="grouped")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5, name="dense")(x)
    model = keras.Model(inputs, outputs)
    expected = {
        "conv": 8 * 8 * 8 * (3 * 3 * 3),
        "dw": 8 * 8 * 8 * 2 * (3 * 3),
        "sep": 6 * 6 * 16 * (3 * 3) + 6 * 6 * 16 * 4,  # depthwise + pointwise
        "grouped": 6 * 6 * 4 * (1 * 1 * 4) // 2,
        "dense": 4 * 5,
    }
    assert {name: layer_multiply_adds(model.get_layer(name)) for name in expected} == expected
    assert count_multiply_adds(model) == sum(expected.values())


def test_nested_models_are_counted():
    inner = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.Conv2D(3, 1)], name="inner")
    outer = keras.Sequential(
        [keras.Input((4, 4, 2)), inner, keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    assert count_multiply_adds(outer) == 4 * 4 * 3 * 2 + 48 * 2


def test_mlp_multiply_adds_are_its_weights_and_training_costs_six_per_example():
    mlp = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(512),
            keras.layers.Dense(10),
        ]
    )
    weights = 784 * 512 + 512 * 10
    assert count_multiply_adds(mlp) == weights
    assert training_flops(weights, examples_seen=60_000 * 3) == 6 * weights * 180_000


def test_matmul_peak_is_timed_on_this_machine():
    peak = measure_matmul_peak(size=256, repetitions=3)
    assert peak.peak_flops_per_second >= peak.median_flops_per_second > 1e8
    assert peak.cpu == cpu_model() and peak.isa == " ".join(vector_isa())
    assert peak.cores >= 1 and peak.matmul_size == 256
    assert set(peak.as_dict()) >= {"cpu", "isa", "peak_flops_per_second"}
    assert peak.dtype == "float32"


def test_matmul_peak_in_bfloat16_and_a_clear_error_for_other_types():
    peak = measure_matmul_peak(size=128, repetitions=2, dtype="bfloat16")
    assert peak.dtype == "bfloat16" and peak.peak_flops_per_second > 0
    with pytest.raises(ValueError, match="float32' or 'bfloat16"):
        measure_matmul_peak(size=8, dtype="float16")


def test_vector_isa_lists_only_vector_flags():
    assert all(flag.startswith(VECTOR_ISA_PREFIXES) for flag in vector_isa())
    assert vector_isa() == sorted(vector_isa())
    assert cpu_model()
