"""The graded transfer tasks and the published classifier, end to end on tiny inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from a2common.data import Dataset, Split
from a2common.grading import TaskContext, TaskResult
from a2common.runs import GradedRun
from lightning_cnn import transfer_tasks
from lightning_cnn.domain_adaptation import Domains
from lightning_cnn.transfer_tasks import recipe, stratified_subset


def tiny_animals3(train: int = 9, val: int = 3, test: int = 6) -> Dataset:
    rng = np.random.default_rng(0)

    def split(n: int) -> Split:
        return Split(rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), np.arange(n) % 3)

    return Dataset(
        "animals3",
        train=split(train),
        val=split(val),
        test=split(test),
        class_names=["cats", "dogs", "panda"],
        sha256={},
    )


def check_result(result: TaskResult, work_dir: Path, rows: int, heads: tuple[str, ...] = ()):
    predictions = result.prediction_arrays()
    assert tuple(predictions) == (heads or ("output",))
    for values in predictions.values():
        assert values.shape[0] == rows
        np.testing.assert_allclose(values.sum(axis=1), 1.0, rtol=1e-5)
    assert not result.card.missing_sections() and result.card.architecture
    assert result.epochs >= 1 and result.parameters > 0
    assert result.history and all(len(values) >= 1 for values in result.history.values())
    assert not any(name.endswith("epoch_seconds") for name in result.history)
    for name in result.model_files:
        assert (work_dir / name).is_file()
    json.dumps(result.details)  # JSON-serialisable, as results.json needs


# ---- the recipe from ctx.params ---------------------------------------------------------------


def test_recipe_applies_quick_values_then_params_and_rejects_unknown_ones(tmp_path):
    from lightning_cnn.transfer_lightning import LightningTransferConfig

    quick = {"image_size": 96, "epochs": 1}
    ctx = TaskContext(quick=True, seed=0, work_dir=tmp_path, params={"epochs": 2, "num_threads": 1})
    config = recipe(LightningTransferConfig, ctx, quick)
    assert (config.image_size, config.epochs, config.trainable_blocks) == (96, 2, 6)
    full = recipe(LightningTransferConfig, TaskContext(False, 0, tmp_path), quick)
    assert full == LightningTransferConfig()
    with pytest.raises(ValueError, match=r"Unknown task parameters \['epochz'\]"):
        recipe(LightningTransferConfig, TaskContext(False, 0, tmp_path, {"epochz": 1}))


def test_stratified_subset_is_seeded_balanced_and_in_loader_order():
    split = Split(np.arange(30), np.arange(30) % 3)
    part = stratified_subset(split, 4, seed=1)
    assert np.bincount(part.y).tolist() == [4, 4, 4]
    assert np.all(np.diff(part.x) > 0)  # loader order kept
    np.testing.assert_array_equal(part.x, stratified_subset(split, 4, seed=1).x)
    assert stratified_subset(split, None, seed=1) is split
    with pytest.raises(ValueError, match="per_class >= 1"):
        stratified_subset(split, 0, seed=1)


# ---- supervised transfer (module-scoped: the published-classifier tests re-use the runs) -------

KERAS_PARAMS = {
    "image_size": 32,
    "head_epochs": 1,
    "finetune_epochs": 0,
    "finetune_from": "block_16_expand",
    "batch_size": 6,
    "progress": False,
}
LIGHTNING_PARAMS = {
    "image_size": 32,
    "trainable_blocks": 1,
    "epochs": 1,
    "batch_size": 6,
    "progress": False,
    "num_threads": 1,
}


@pytest.fixture(scope="module")
def supervised_runs(tmp_path_factory):
    """Both supervised tasks run twice on tiny data (trained, then loaded), as graded runs."""
    root = tmp_path_factory.mktemp("runs")
    runs = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transfer_tasks, "load_animals3", tiny_animals3)
        for framework, function, params in (
            ("keras", transfer_tasks.grade_keras_transfer, KERAS_PARAMS),
            ("lightning", transfer_tasks.grade_lightning_transfer, LIGHTNING_PARAMS),
        ):
            path = root / framework
            ctx = TaskContext(quick=True, seed=0, work_dir=path / "work", params=params)
            first, second = function(ctx), function(ctx)
            # what the autograder's worker writes, so that GradedRun can read it
            (path / "result.json").write_text(
                json.dumps(
                    {
                        "model_files": first.model_files,
                        "revision": "test",
                        "epochs": first.epochs,
                        "train_seconds": first.train_seconds,
                        "parameters": first.parameters,
                        "details": first.details,
                    }
                )
            )
            runs[framework] = (first, second, GradedRun(f"{framework}_test", path))
    return runs


@pytest.mark.parametrize("framework", ["keras", "lightning"])
def test_supervised_task_trains_then_loads_from_its_work_dir(supervised_runs, framework):
    first, second, run = supervised_runs[framework]
    check_result(first, run.work_dir, rows=6)
    assert not first.details["from_cache"] and second.details["from_cache"]
    assert first.details["train_images"] == 9 and first.details["test_images"] == 6
    assert 0 < first.details["trainable_parameters"] < first.parameters
    np.testing.assert_allclose(second.predictions, first.predictions, atol=1e-5)
    assert second.train_seconds == pytest.approx(first.train_seconds)
    if framework == "keras":  # one stage here; the quick grade runs both
        assert first.epochs == 1 and first.model_files == ["stage1_head/model.keras"]


def test_trunk_features_are_kept_on_disk_for_a_resumed_run(tmp_path):
    from lightning_cnn.transfer_lightning import EfficientNetTransfer, cached_trunk_features

    model = EfficientNetTransfer(image_size=32, trainable_blocks=5, pretrained=False)
    images = tiny_animals3().train.x[:3]
    cache = tmp_path / "trunk.pt"
    first = cached_trunk_features(model, images, cache)
    assert first.shape[:2] == (2, 3) and cache.is_file()
    stored = torch.load(cache, weights_only=True)
    stored["features"] = stored["features"] + 1  # so that a re-use is visible
    torch.save(stored, cache)
    torch.testing.assert_close(cached_trunk_features(model, images, cache), first + 1)
    other = cached_trunk_features(model, images[:2], cache)  # other images: recomputed
    torch.testing.assert_close(other, first[:, :2])


@pytest.mark.parametrize("cache_trunk", [True, False])
def test_batchnorm_statistics_stay_fixed_in_new_and_resumed_runs(
    tmp_path, monkeypatch, cache_trunk
):
    """A resumed run (trunk outputs read from disk) once trained with BatchNorm in train mode."""
    from lightning_cnn.lightning_callbacks import TrainingHistory
    from lightning_cnn.transfer_lightning import (
        EfficientNetTransfer,
        LightningTransferConfig,
        train_lightning_transfer,
    )

    batchnorms = [
        m
        for m in EfficientNetTransfer(image_size=32, pretrained=False).modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    ]
    assert batchnorms and not any(bn.training for bn in batchnorms)  # from construction on
    config = LightningTransferConfig(
        image_size=32, trainable_blocks=2, epochs=2, batch_size=6, cache_trunk=cache_trunk
    )
    original = TrainingHistory.on_train_epoch_start

    def interrupt(self, trainer, module):
        if trainer.current_epoch == 1:
            raise RuntimeError("simulated interruption")
        original(self, trainer, module)

    monkeypatch.setattr(TrainingHistory, "on_train_epoch_start", interrupt)
    with pytest.raises(RuntimeError, match="simulated interruption"):
        train_lightning_transfer(
            tmp_path, config, data=tiny_animals3(), pretrained=False, progress=False
        )
    monkeypatch.setattr(TrainingHistory, "on_train_epoch_start", original)
    run = train_lightning_transfer(
        tmp_path, config, data=tiny_animals3(), pretrained=False, progress=False
    )  # resumes from last.ckpt
    assert len(run.history["loss"]) == 2
    for module in run.model.modules():  # the random init's statistics, untouched
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.testing.assert_close(module.running_mean, torch.zeros_like(module.running_mean))
            torch.testing.assert_close(module.running_var, torch.ones_like(module.running_var))


def test_quick_variant_subsets_training_data_but_never_the_test_split(monkeypatch, tmp_path):
    monkeypatch.setattr(transfer_tasks, "load_animals3", lambda: tiny_animals3(90, 60, 12))
    data = transfer_tasks.training_data(TaskContext(True, 0, tmp_path, {"train_per_class": 5}))
    assert len(data.train) == 15 and len(data.val) == 3 * transfer_tasks.QUICK_VAL_PER_CLASS
    assert len(data.test) == 12
    full = transfer_tasks.training_data(TaskContext(False, 0, tmp_path))
    assert (len(full.train), len(full.val), len(full.test)) == (90, 60, 12)


# ---- contrastive ------------------------------------------------------------------------------


class FakeTextEncoder:
    """Stands in for all-MiniLM-L6-v2 (the optional extra): fixed random sentence vectors."""

    def encode(self, sentences: list[str], convert_to_tensor: bool = True) -> torch.Tensor:
        generator = torch.Generator().manual_seed(len(sentences))
        with torch.inference_mode():  # as sentence-transformers encodes: inference tensors
            return torch.randn(len(sentences), 16, generator=generator)

    def parameters(self) -> list[torch.Tensor]:
        return [torch.zeros(7)]


def test_contrastive_task_returns_both_heads(monkeypatch, tmp_path):
    from lightning_cnn import contrastive

    monkeypatch.setattr(transfer_tasks, "load_animals3", tiny_animals3)
    monkeypatch.setattr(contrastive, "load_text_encoder", FakeTextEncoder)
    ctx = TaskContext(
        quick=True,
        seed=0,
        work_dir=tmp_path / "work",
        params={"image_size": 32, "epochs": 2, "batch_size": 9, "embed_dim": 8, "progress": False},
    )
    result = transfer_tasks.grade_contrastive(ctx)
    check_result(result, tmp_path / "work", rows=6, heads=transfer_tasks.CONTRASTIVE_HEADS)
    parts = result.details["parameters"]
    assert parts["text_tower_frozen"] == 7 and parts["image_tower_frozen"] > 3_000_000
    assert result.parameters == sum(
        value for name, value in parts.items() if name != "linear_probe"
    )
    assert result.details["prompts"][0] == "a photo of a cat."
    # A finished run is re-loaded, not retrained: with the encoder's inference tensors this path
    # used to raise "Inplace update to inference tensor outside InferenceMode".
    again = transfer_tasks.grade_contrastive(ctx)
    assert again.details["from_cache"]
    for head, values in again.prediction_arrays().items():
        np.testing.assert_allclose(values, result.prediction_arrays()[head], atol=1e-6)


def test_text_features_are_ordinary_tensors():
    from lightning_cnn.contrastive import text_features

    features = text_features(["a photo of a cat."], FakeTextEncoder())
    assert not features.is_inference()
    features.mul_(2.0)  # usable in autograd-tracked, in-place code


# ---- domain adaptation ------------------------------------------------------------------------


def tiny_domains() -> Domains:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (26, 32, 32, 3), dtype=np.uint8)
    return Domains(images[:14], np.arange(14) % 2, images[14:20], images[20:], np.arange(6) % 2)


def test_domain_adaptation_task_returns_three_heads_from_two_trainings(monkeypatch, tmp_path):
    monkeypatch.setattr(transfer_tasks, "load_domains", tiny_domains)
    ctx = TaskContext(
        quick=True,
        seed=0,
        work_dir=tmp_path / "work",
        params={
            "epochs": 1,
            "batch_size": 4,
            "channels": [4, 4, 4],
            "train_per_class": 5,
            "progress": False,
            "num_threads": 1,
        },
    )
    result = transfer_tasks.grade_domain_adaptation(ctx)
    check_result(result, tmp_path / "work", rows=6, heads=transfer_tasks.DOMAIN_HEADS)
    assert result.details["source_images"] == 10  # 5 per class
    assert result.details["from_cache"] == {"source_only": False, "adabn": True, "dann": False}
    assert {"source_only_loss", "dann_loss", "val_dann_acc"} <= set(result.history)
    predictions = result.prediction_arrays()
    assert not np.allclose(predictions["adabn"], predictions["source_only"])  # statistics moved
    again = transfer_tasks.grade_domain_adaptation(ctx)
    assert all(again.details["from_cache"].values())
    for head in transfer_tasks.DOMAIN_HEADS:
        np.testing.assert_allclose(again.prediction_arrays()[head], predictions[head], atol=1e-6)


def test_domain_target_order_is_checked_against_the_loader():
    with pytest.raises(RuntimeError, match="not a2common.data's animals3 test cats/dogs"):
        transfer_tasks._check_target_order(np.zeros(400, dtype=np.int64))


# ---- the published classifier -----------------------------------------------------------------


@pytest.fixture(scope="module")
def published(supervised_runs, tmp_path_factory):
    from lightning_cnn.classifier import publish_classifier

    runs = {framework: run for framework, (_, _, run) in supervised_runs.items()}
    out = tmp_path_factory.mktemp("published") / "animals3_classifier"
    return publish_classifier(out, runs=runs, results_file=Path("/nonexistent/results.json"))


@pytest.mark.parametrize("framework", ["keras", "lightning"])
def test_published_classifier_loads_with_one_call_and_predicts_like_the_graded_model(
    published, supervised_runs, framework
):
    import lightning_cnn

    classifier = lightning_cnn.load_classifier(published, framework=framework)
    assert classifier.class_names == ["cats", "dogs", "panda"]
    test_images = tiny_animals3().test.x
    probabilities = classifier.predict(test_images)
    graded = supervised_runs[framework][0].predictions
    np.testing.assert_allclose(probabilities, graded, atol=1e-4)
    assert classifier.predict_labels(test_images[:2]) == [
        classifier.class_names[i] for i in graded[:2].argmax(axis=1)
    ]
    assert classifier.predict(test_images[0]).shape == (1, 3)  # one (64, 64, 3) image


def test_published_folder_describes_itself(published):
    metadata = json.loads((published / "classifier.json").read_text())
    assert metadata["default"] == "lightning" and "no grade recorded" in metadata["selection"]
    assert metadata["input"]["shape"] == [None, 64, 64, 3]
    assert metadata["models"]["keras"]["run"]["revision"] == "test"
    listed = (published / "SHA256SUMS").read_text()
    assert "keras/model.keras" in listed and "lightning/model.pt2" in listed
    assert "classifier.json" in listed


def test_published_classifier_reads_image_files_of_any_size(published, tmp_path):
    from PIL import Image

    from lightning_cnn.classifier import load_classifier, load_images

    path = tmp_path / "photo.png"
    Image.fromarray(np.full((120, 90, 3), 200, np.uint8)).save(path)
    assert load_images([path]).shape == (1, 64, 64, 3)
    labels = load_classifier(published, "lightning").predict_labels([path, str(path)])
    assert len(labels) == 2 and labels[0] == labels[1]
    with pytest.raises(ValueError, match="Expected RGB images"):
        load_images(np.zeros((2, 64, 64, 1)))


def test_published_classifier_errors_are_clear(published, tmp_path):
    import shutil

    from lightning_cnn.classifier import ClassifierError, load_classifier, publish_classifier

    with pytest.raises(ClassifierError, match="no such file"):
        load_classifier(tmp_path / "nothing_here")
    with pytest.raises(ClassifierError, match="Expected a framework"):
        load_classifier(published, framework="onnx")
    altered = tmp_path / "altered"
    shutil.copytree(published, altered)
    with open(altered / "lightning" / "model.pt2", "ab") as stream:
        stream.write(b"tampered")
    with pytest.raises(ClassifierError, match="corrupt or altered"):
        load_classifier(altered, framework="lightning")
    with pytest.raises(FileExistsError, match="force=True"):
        publish_classifier(published, runs={})
    (tmp_path / "not_a_release").mkdir()
    with pytest.raises(FileExistsError, match="neither"):
        publish_classifier(tmp_path / "not_a_release", runs={})
