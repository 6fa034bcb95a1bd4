"""The animals6 study driver on tiny synthetic data (the CIFAR-10 loader is replaced)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from keras_models import __main__ as cli
from keras_models import animals6_study as study
from keras_models.animals6 import Animals6

TINY = dataclasses.replace(study.QUICK, train_per_class=4, batch_size=8)


def fake_animals6(seed: int = 0, train_per_class: int | None = None) -> Animals6:
    """Six classes told apart by a brightness level, so a tiny model can learn something."""
    rng = np.random.default_rng(seed)

    def split(per_class: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.repeat(np.arange(6), per_class)
        images = rng.random((len(labels), 32, 32, 3), dtype=np.float32) * 0.2
        images += (labels / 6.0)[:, None, None, None].astype(np.float32)
        return images, labels.astype(np.int64)

    return Animals6(*split(train_per_class or 4), *split(2), *split(3))


@pytest.fixture(autouse=True)
def eager_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the tiny models eagerly: tracing ``tf.function``s costs more than a few batches."""
    real_build = study.build_model

    def build_model(config: study.RunConfig, data: Animals6):
        model = real_build(config, data)
        model.run_eagerly = True
        return model

    monkeypatch.setattr(study, "build_model", build_model)


@pytest.fixture
def counted_training(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Synthetic data everywhere, and the names of the runs that really trained."""
    monkeypatch.setattr(study, "load_animals6", fake_animals6)
    trained: list[str] = []
    real_train = study.train_run

    def train_run(config: study.RunConfig, data: Animals6, log: study.Log = print):
        trained.append(config.name)
        return real_train(config, data, log)

    monkeypatch.setattr(study, "train_run", train_run)
    return trained


def test_grid_has_the_twelve_combinations() -> None:
    grid = study.grid_configs(study.FULL)
    combos = {(c.num_blocks, c.use_skip, c.lr) for c in grid}
    assert combos == set(itertools.product((2, 3, 4), (False, True), (1e-3, 1e-4)))
    assert len(grid) == 12 and len({c.name for c in grid}) == 12
    assert {(c.augment, c.mixup_alpha, c.sam_rho, c.seed) for c in grid} == {(False, None, None, 0)}


def test_best_is_chosen_on_validation_not_test() -> None:
    grid = study.grid_configs(study.QUICK)
    records = [
        study._demo_record(grid[0], val=0.50, test=0.90),  # best test: must not win
        study._demo_record(grid[1], val=0.70, test=0.40),
        study._demo_record(grid[2], val=0.60, test=0.80),
    ]
    assert study.best_grid_record(records).config.name == grid[1].name


def test_a_tie_on_validation_accuracy_goes_to_the_lower_validation_loss() -> None:
    grid = study.grid_configs(study.QUICK)
    records = [
        study._demo_record(grid[0], val=0.53, test=0.90, val_loss=1.25),
        study._demo_record(grid[1], val=0.53, test=0.40, val_loss=1.20),
        study._demo_record(grid[2], val=0.50, test=0.80, val_loss=0.90),
    ]
    assert study.best_grid_record(records).config.name == grid[1].name


def test_follow_ups_change_one_thing_each() -> None:
    best = study.grid_configs(study.FULL)[5]
    follow = {c.name: c for c in study.follow_up_configs(best)}
    same = dataclasses.replace
    assert follow["best_augment"] == same(best, name="best_augment", augment=True)
    assert follow["best_mixup"] == same(best, name="best_mixup", mixup_alpha=study.MIXUP_ALPHA)
    assert follow["best_sam"] == same(best, name="best_sam", sam_rho=study.SAM_RHO)
    assert [follow[f"best_seed{s}"].seed for s in (1, 2)] == [1, 2]


def test_record_is_reused_and_a_changed_config_retrains(
    tmp_path: Path, counted_training: list[str]
) -> None:
    config = dataclasses.replace(study.grid_configs(TINY)[0], num_blocks=1)
    logs: list[str] = []
    first = study.run_or_load(config, lambda: fake_animals6(0, 4), tmp_path, logs.append)
    again = study.run_or_load(config, lambda: fake_animals6(0, 4), tmp_path, logs.append)
    assert counted_training == [config.name]  # the second call trained nothing
    assert again == first
    changed = dataclasses.replace(config, lr=1e-2)
    retrained = study.run_or_load(changed, lambda: fake_animals6(0, 4), tmp_path, logs.append)
    assert counted_training == [config.name, config.name]
    assert retrained.config == changed
    assert any("another config (changed: lr); retraining" in line for line in logs)
    assert study.read_record(study.record_path(tmp_path, config.name)).config == changed
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporary files


def test_record_accuracies_come_from_its_predictions(tmp_path: Path) -> None:
    data = fake_animals6(0, 4)
    config = dataclasses.replace(study.grid_configs(TINY)[0], num_blocks=1, sam_rho=0.05)
    record = study.run_or_load(config, lambda: data, tmp_path, lambda line: None)
    for split in study.SPLITS:
        labels = getattr(data, f"{split}_labels")
        assert len(record.predictions[split]) == len(labels)
        assert record.accuracy[split] == accuracy_score(labels, record.predictions[split])
    confusion = np.array(record.test_confusion)
    assert confusion.shape == (6, 6) and confusion.sum() == len(data.test_labels)
    assert np.trace(confusion) / confusion.sum() == pytest.approx(record.accuracy["test"])
    assert set(record.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert record.epochs == config.epochs and "keras" in record.versions
    stored = json.loads(study.record_path(tmp_path, config.name).read_text())
    assert stored["config"] == config.to_dict()


def test_corrupt_record_raises_and_names_the_file(
    tmp_path: Path, counted_training: list[str]
) -> None:
    config = study.grid_configs(TINY)[0]
    path = study.record_path(tmp_path, config.name)
    path.write_text('{"config": {"name": ')  # an interrupted write by some other tool
    with pytest.raises(study.CorruptRecordError, match="Delete it to retrain") as error:
        study.run_or_load(config, lambda: fake_animals6(), tmp_path, lambda line: None)
    assert str(path) in str(error.value)
    assert counted_training == []


def test_cli_quick_study_on_synthetic_data(
    tmp_path: Path, counted_training: list[str], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(study, "QUICK", dataclasses.replace(TINY, feature_maps=2))
    assert cli.main(["animals6-study", "--work-dir", str(tmp_path), "--quick"]) == 0
    output = capsys.readouterr().out
    assert len(counted_training) == 18 and len(list(tmp_path.glob("*.json"))) == 18
    assert "grid_b4_skip_lr0.0001" in output and "best_sam" in output
    # run again: everything is reused, nothing trains
    assert cli.main(["animals6-study", "--work-dir", str(tmp_path), "--quick"]) == 0
    assert len(counted_training) == 18
    results = study.run_study(tmp_path, quick=True, log=lambda line: None)
    assert len(study.grid_frame(results)) == 13
    assert len(study.skip_frame(results)) == 6
    assert list(study.comparison_frame(results)["run"])[:3] == [
        results.best.config.name,
        "best_seed1",
        "best_seed2",
    ]
