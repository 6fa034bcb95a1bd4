"""Multiply-adds against published totals (counting by hand: a2common/tests/test_compute.py)."""

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import pytest

from modern_convnets.profiling import (
    count_multiply_adds,
    measure_latency,
    profile_model,
)
from modern_convnets.squeezenet import build_squeezenet


@pytest.mark.parametrize(
    "version, published_gmacs, tolerance",
    [
        # torchvision's documented "GFLOPS" (multiply-adds) at 224: 0.82 and 0.35. Its max-pools
        # round up (ceil mode), so v1.0's later stages are 27 and 13 wide where ours are 26 and 12.
        ("1.0", 0.82, 0.06),
        ("1.1", 0.35, 0.01),
    ],
)
def test_squeezenet_multiply_adds_match_published_figures(version, published_gmacs, tolerance):
    macs = count_multiply_adds(build_squeezenet(version, (224, 224, 3), 1000))
    assert macs / 1e9 == pytest.approx(published_gmacs, rel=tolerance)


def test_latency_and_profile_report_positive_times():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    rows = measure_latency(model, (1, 4), repetitions=3, warmup=1)
    assert [row.batch_size for row in rows] == [1, 4]
    assert all(0 < row.min_ms_per_image <= row.median_ms_per_image for row in rows)
    report = profile_model(model, batch_sizes=(), repetitions=1)
    assert report["parameters"] == 3 * 3 * 3 * 4 + 4 and report["latency"] == []
    assert report["multiply_adds"] == 6 * 6 * 4 * 27
    with pytest.raises(ValueError, match="Expected repetitions >= 1"):
        measure_latency(model, (1,), repetitions=0)


def test_cli_profiles_a_saved_model_file(tmp_path, capsys):
    import json

    from modern_convnets.profiling import main

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    model.save(tmp_path / "tiny.keras")
    main(["--model-file", str(tmp_path / "tiny.keras"), "--batch-sizes", "1", "--repetitions", "1"])
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["name"].endswith("tiny.keras") and row["parameters"] == 112
    assert row["multiply_adds"] == 6 * 6 * 4 * 27 and len(row["latency"]) == 1
    with pytest.raises(SystemExit):
        main(["--model-file", str(tmp_path / "missing.keras")])
