"""Graded-run folders, the live progress file and the one Markdown-table renderer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from a2common import progress, runs
from a2common.grading import ModelCardText
from a2common.tables import keras_layer_table, markdown_table, text_table


def test_run_dir_layout_and_root_override(monkeypatch, tmp_path):
    monkeypatch.setenv(runs.RUNS_ENV, str(tmp_path))
    assert (
        runs.run_dir("keras_mnist_cnn", quick=True, seed=2)
        == tmp_path / "quick" / "keras_mnist_cnn" / "seed2"
    )


def test_graded_run_reads_what_the_worker_wrote(monkeypatch, tmp_path):
    monkeypatch.setenv(runs.RUNS_ENV, str(tmp_path))
    with pytest.raises(runs.RunNotFoundError, match="python -m autograder ensure toy"):
        runs.GradedRun.open("toy")
    folder = runs.run_dir("toy")
    (folder / "work").mkdir(parents=True)
    (folder / "work" / "model.keras").write_bytes(b"model")
    np.savez(folder / runs.PREDICTIONS_FILE, output=np.eye(3))
    (folder / runs.RESULT_FILE).write_text(
        json.dumps(
            {
                "history": {"loss": [1.0]},
                "details": {},
                "model_files": ["model.keras"],
                "card": ModelCardText(overview="toy").to_dict(),
            }
        )
    )
    (folder / runs.MANIFEST_FILE).write_text("{}")
    run = runs.GradedRun.open("toy")
    assert run.predictions().shape == (3, 3) and run.history == {"loss": [1.0]}
    assert run.model_path().read_bytes() == b"model" and run.card.overview == "toy"
    with pytest.raises(KeyError, match="no predictions for head 'colour'"):
        run.predictions("colour")


def test_progress_is_recorded_only_under_the_autograder(monkeypatch, tmp_path):
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    progress.report_epoch(1, 2, {"loss": 0.3})  # no file: nothing happens
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    progress.report_epoch(1, 2, {"loss": 0.3, "bad": float("nan"), "name": "x"})
    path.write_text(path.read_text() + '{"half-written')
    entries = progress.read_progress(path)
    assert len(entries) == 1 and entries[0]["metrics"] == {"loss": 0.3}


def test_markdown_table_formats_and_checks_rows():
    table = markdown_table(["a", "b"], [["x|y", None], [1, 0.123456]])
    assert table.splitlines()[2] == "| x\\|y | – |" and "0.1235" in table
    with pytest.raises(ValueError, match="Expected 2 cells"):
        markdown_table(["a", "b"], [[1]])


def test_text_table_keeps_every_cell_whole_and_checks_rows():
    long_name = "stage3_block2_depthwise_separable_convolution_with_a_long_name"
    table = text_table(["layer", "parameters"], [[long_name, 123456], ["x", 1]])
    assert long_name in table
    assert table.splitlines()[2].endswith("123,456")
    with pytest.raises(ValueError, match="Expected 2 cells"):
        text_table(["a", "b"], [[1]])


def test_keras_layer_table_lists_every_layer_and_its_inputs_untruncated():
    import keras

    inputs = keras.Input((8,), name="features")
    long_name = "left_branch_with_a_name_longer_than_a_summary_column"
    left = keras.layers.Dense(4, name=long_name)(inputs)
    right = keras.layers.Dense(4, name="right")(inputs)
    merged = keras.layers.Concatenate(name="merge")([left, right])
    model = keras.Model(inputs, keras.layers.Dense(2, name="logits")(merged), name="two_branches")
    lines = keras_layer_table(model).splitlines()
    assert lines[0] == 'Model "two_branches": 90 parameters (90 trainable)'
    merge_row = next(line for line in lines if line.startswith("merge (Concatenate)"))
    assert merge_row.endswith(f"{long_name}, right")
    assert len(lines) == 3 + len(model.layers)
