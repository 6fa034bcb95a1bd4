"""a2demo.bundle: the copied runs serve the same answers as the originals."""

from __future__ import annotations

from starlette.testclient import TestClient

from a2demo.app import DemoConfig, create_app
from a2demo.bundle import bundle_cards, bundle_runs, main


def test_bundle_serves_the_same_predictions(tiny_runs, tmp_path, digit_png):
    copied = bundle_runs(tiny_runs, tmp_path / "runs")
    assert sorted(path.relative_to(tmp_path / "runs").as_posix() for path in copied) == [
        "full/autograd_mnist_mlp/seed0",
        "full/keras_mnist_cnn/seed0",
        "quick/keras_animals3_transfer/seed0",
    ]
    files = {"image": ("d.png", digit_png)}
    original = TestClient(create_app(DemoConfig(runs_root=tiny_runs))).post(
        "/api/digit", files=files
    )
    bundled = TestClient(create_app(DemoConfig(runs_root=tmp_path / "runs"))).post(
        "/api/digit", files=files
    )
    assert bundled.status_code == 200
    for key in ("mlp", "cnn"):
        assert bundled.json()["models"][key]["top_k"] == original.json()["models"][key]["top_k"]


def test_cards_and_command_line(tmp_path, capsys):
    card = tmp_path / "packages/autograd/model_cards/autograd_mnist_mlp.html"
    card.parent.mkdir(parents=True)
    card.write_text("<html></html>")
    (tmp_path / "packages/autograd/README.md").write_text("not a card")
    assert [p.name for p in bundle_cards(tmp_path / "packages", tmp_path / "out")] == [
        "autograd_mnist_mlp.html"
    ]
    assert main([str(tmp_path / "missing"), str(tmp_path / "runs")]) == 0
    assert "not trained yet" in capsys.readouterr().out
