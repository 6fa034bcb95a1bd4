"""SqueezeNet against the paper: Table 1's shapes and parameter counts, v1.1's count."""

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np
import pytest

from modern_convnets.squeezenet import build_squeezenet, fire_module, stage_names

# Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and
# <0.5MB model size", Table 1: layer -> (output size, "# parameter before pruning").
# The output sizes follow from the Caffe model's 227x227 crops: (227 - 7) / 2 + 1 = 111.
PAPER_TABLE_1 = {
    "conv1": ((111, 111, 96), 14_208),
    "maxpool1": ((55, 55, 96), 0),
    "fire2": ((55, 55, 128), 11_920),
    "fire3": ((55, 55, 128), 12_432),
    "fire4": ((55, 55, 256), 45_344),
    "maxpool4": ((27, 27, 256), 0),
    "fire5": ((27, 27, 256), 49_440),
    "fire6": ((27, 27, 384), 104_880),
    "fire7": ((27, 27, 384), 111_024),
    "fire8": ((27, 27, 512), 188_992),
    "maxpool8": ((13, 13, 512), 0),
    "fire9": ((13, 13, 512), 197_184),
    "conv10": ((13, 13, 1000), 513_000),
    "avgpool10": ((1, 1, 1000), 0),
}
PAPER_TOTAL_V1_0 = 1_248_424
# v1.1 (github.com/forresti/SqueezeNet, SqueezeNet_v1.1) has no table in the paper. Its count
# follows from v1.0's: conv1 becomes 3x3x3x64 + 64 = 1,792 (was 14,208) and fire2 squeezes
# 64 instead of 96 channels (32 x 16 = 512 fewer weights):
# 1,248,424 - 14,208 + 1,792 - 512 = 1,235,496, the num_params torchvision's
# squeezenet1_1 documents.
TOTAL_V1_1 = 1_235_496


def _stage_rows(model: keras.Model, version: str = "1.0") -> dict[str, tuple]:
    rows = {}
    for layer_name in stage_names(version):
        row = layer_name.split("_")[0]
        shape = tuple(model.get_layer(layer_name).output.shape[1:])
        rows[row] = (1, 1, shape[0]) if len(shape) == 1 else shape
    return rows


def _stage_parameters(model: keras.Model) -> dict[str, int]:
    counts = dict.fromkeys(PAPER_TABLE_1, 0)
    for layer in model.layers:
        row = layer.name.split("_")[0]
        if row in counts:
            counts[row] += layer.count_params()
    return counts


@pytest.fixture(scope="module")
def squeezenet_227():
    return build_squeezenet("1.0", input_shape=(227, 227, 3), num_classes=1000)


def test_v1_0_imagenet_configuration_has_the_papers_parameter_count():
    model = build_squeezenet("1.0", input_shape=(224, 224, 3), num_classes=1000)
    assert model.count_params() == PAPER_TOTAL_V1_0
    assert _stage_parameters(model) == {row: params for row, (_, params) in PAPER_TABLE_1.items()}
    # At 224 the channels of every stage are the paper's; the sizes are those of a 227 crop
    # minus the stride arithmetic: (224 - 7) // 2 + 1 = 109, then 54, 26 and 12.
    rows = _stage_rows(model)
    assert {row: shape[-1] for row, shape in rows.items()} == {
        row: shape[-1] for row, (shape, _) in PAPER_TABLE_1.items()
    }
    assert rows["conv1"] == (109, 109, 96) and rows["fire9"] == (12, 12, 512)


def test_v1_0_stage_shapes_match_the_papers_table_1(squeezenet_227):
    assert _stage_rows(squeezenet_227) == {row: shape for row, (shape, _) in PAPER_TABLE_1.items()}
    assert squeezenet_227.count_params() == PAPER_TOTAL_V1_0


def test_v1_1_parameter_count_and_stages():
    model = build_squeezenet("1.1", input_shape=(224, 224, 3), num_classes=1000)
    assert model.count_params() == TOTAL_V1_1
    rows = _stage_rows(model, "1.1")
    assert rows["conv1"] == (111, 111, 64)  # 3x3/2 on 224: (224 - 3) // 2 + 1
    assert [name for name in stage_names("1.1") if name.startswith("maxpool")] == [
        "maxpool1",
        "maxpool3",
        "maxpool5",
    ]
    assert rows["fire9"] == (13, 13, 512) and model.output_shape == (None, 1000)


def test_fire_module_concatenates_its_expand_branches():
    inputs = keras.Input((55, 55, 96))
    outputs = fire_module(inputs, 16, 64, 64, name="fire2")
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 55, 55, 128)
    assert model.count_params() == PAPER_TABLE_1["fire2"][1]
    # the 1x1 branch fills the first 64 channels, the 3x3 branch the last 64
    images = np.random.default_rng(0).random((1, 55, 55, 96)).astype("float32")
    squeezed = model.get_layer("fire2_squeeze1x1_relu").output
    branch = keras.Model(inputs, [squeezed, model.get_layer("fire2_expand1x1_relu").output])
    _, expanded1x1 = branch(images)
    np.testing.assert_allclose(
        np.asarray(model(images))[..., :64], np.asarray(expanded1x1), rtol=1e-5, atol=1e-6
    )


def test_fire_module_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Expected a 4-D input"):
        fire_module(keras.Input((10,)), 2, 4, 4, name="fire")
    with pytest.raises(ValueError, match="Expected positive filter counts"):
        fire_module(keras.Input((8, 8, 3)), 0, 4, 4, name="fire")


def test_scaled_cpu_variant_predicts_probabilities_on_small_images():
    model = build_squeezenet(
        "1.1",
        (32, 32, 3),
        10,
        width_multiplier=0.25,
        stem_strides=1,
        padding="same",
        batch_norm=True,
        bypass=True,
    )
    assert model.get_layer("fire9_concat").output.shape[1:3] == (4, 4)
    assert "fire9_bypass" in [layer.name for layer in model.layers]
    probabilities = np.asarray(model(np.zeros((2, 32, 32, 3), "float32")))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_bypass_adds_no_parameters():
    plain = build_squeezenet("1.0", (64, 64, 3), 10, width_multiplier=0.25)
    bypassed = build_squeezenet("1.0", (64, 64, 3), 10, width_multiplier=0.25, bypass=True)
    assert plain.count_params() == bypassed.count_params()
    assert sum(isinstance(layer, keras.layers.Add) for layer in bypassed.layers) == 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"version": "2.0"}, "Expected version"),
        ({"input_shape": (32, 32)}, "Expected input_shape"),
        ({"width_multiplier": 0.0}, "Expected width_multiplier"),
        ({"padding": "causal"}, "Expected padding"),
    ],
)
def test_builder_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_squeezenet(**kwargs)
