"""The FastAPI app on tiny fixture runs: answers, 503 for missing runs, 4xx for bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from a2demo.app import DemoConfig, create_app
from a2demo.digits import mnist_digit
from a2demo.images import ImageLimits


@pytest.fixture(scope="module")
def client(tiny_runs: Path) -> TestClient:
    return TestClient(create_app(DemoConfig(runs_root=tiny_runs, cards_root=tiny_runs / "none")))


@pytest.fixture(scope="module")
def full_only(tiny_runs: Path) -> TestClient:
    """The same runs, but only full runs count: the animals model (a quick run) is missing."""
    return TestClient(create_app(DemoConfig(runs_root=tiny_runs, run_kinds=("full",))))


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def post(client: TestClient, url: str, data: bytes, name: str = "x.png"):
    return client.post(url, files={"image": (name, data, "application/octet-stream")})


def test_page_and_health(client):
    page = client.get("/")
    assert page.status_code == 200 and 'id="canvas"' in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/api/health").json() == {"status": "ok"}


def test_digit_is_classified_by_both_models_with_the_mnist_input(client, tiny_runs, digit_png):
    response = post(client, "/api/digit", digit_png)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["input_28x28"].startswith("data:image/png;base64,")
    from autograd import load_model

    mlp = load_model(tiny_runs / "full/autograd_mnist_mlp/seed0/work/mlp.npz")
    digit = mnist_digit(Image.open(io.BytesIO(digit_png)).convert("L"))
    logits = mlp.predict(digit.reshape(1, 784))[0]
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    for key in ("mlp", "cnn"):
        result = body["models"][key]
        assert result["state"] == "ready" and result["run"] == "full"
        probabilities = [row["probability"] for row in result["top_k"]]
        assert len(probabilities) == 3 and probabilities == sorted(probabilities, reverse=True)
        assert result["label"] == result["top_k"][0]["label"] in list("0123456789")
    top = body["models"]["mlp"]["top_k"][0]
    assert top["label"] == str(int(expected.argmax()))
    assert top["probability"] == pytest.approx(float(expected.max()), abs=1e-5)


def test_photo_top_k_matches_the_model_on_the_64px_image(client, tiny_runs, photo_png):
    response = client.post("/api/photo?k=3", files={"image": ("p.png", photo_png)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["run"] == "quick" and {row["label"] for row in body["top_k"]} == {
        "cats",
        "dogs",
        "panda",
    }
    assert sum(row["probability"] for row in body["top_k"]) == pytest.approx(1.0, abs=1e-4)
    import keras

    model = keras.models.load_model(
        tiny_runs / "quick/keras_animals3_transfer/seed0/work/stage2/model.keras"
    )
    image = Image.open(io.BytesIO(photo_png)).convert("RGB")
    image = image.resize((64, 64), Image.Resampling.BILINEAR)
    logits = np.asarray(model(np.asarray(image, np.float32)[None]))[0]
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert body["top_k"][0]["probability"] == pytest.approx(float(expected.max()), abs=1e-5)
    assert (
        client.post("/api/photo?k=1", files={"image": ("p.png", photo_png)}).json()["top_k"][0][
            "label"
        ]
        == body["label"]
    )


@pytest.mark.parametrize("k", ["0", "4", "two"])
def test_bad_k_is_422(client, photo_png, k):
    response = client.post(f"/api/photo?k={k}", files={"image": ("p.png", photo_png)})
    assert response.status_code == 422 and "Expected k between 1 and 3" in response.json()["detail"]


def test_missing_run_is_503_naming_the_command(full_only, photo_png):
    response = post(full_only, "/api/photo", photo_png)
    assert response.status_code == 503
    body = response.json()
    assert body["state"] == "not_trained" and "make grade" in body["detail"]
    assert "python -m autograder ensure keras_animals3_transfer" in body["detail"]
    states = {key: model["state"] for key, model in full_only.get("/api/models").json().items()}
    assert states["animals"] == "not_trained" and states["mlp"] in ("ready", "available")
    assert full_only.get("/api/health").status_code == 200  # still serving


def test_digit_without_any_run_is_503_and_says_not_trained(tmp_path, digit_png):
    client = TestClient(create_app(DemoConfig(runs_root=tmp_path)))
    response = post(client, "/api/digit", digit_png)
    assert response.status_code == 503
    assert all(m["state"] == "not_trained" for m in response.json()["models"].values())


def test_an_unloadable_model_file_is_503_not_a_crash(tmp_path, digit_png):
    run = tmp_path / "full/keras_mnist_cnn/seed0"
    (run / "work").mkdir(parents=True)
    (run / "result.json").write_text(json.dumps({"model_files": ["model.keras"], "card": {}}))
    (run / "manifest.json").write_text("{}")
    np.savez(run / "predictions.npz", output=np.zeros(1))
    (run / "work/model.keras").write_bytes(b"not a zip")
    client = TestClient(create_app(DemoConfig(runs_root=tmp_path)))
    for _ in range(2):  # the failure is remembered, not retried on every request
        response = post(client, "/api/predict/cnn", digit_png)
        assert response.status_code == 503 and response.json()["state"] == "error"
        assert "could not be loaded" in response.json()["detail"]
    assert client.get("/api/models").json()["cnn"]["state"] == "error"


def cmyk_jpeg() -> bytes:
    return encode(Image.new("CMYK", (32, 32), (0, 0, 0, 0)), "JPEG")


BAD_UPLOADS = {
    "text file": (b"just some text\n", 415, "not an image"),
    "empty file": (b"", 400, "empty"),
    "truncated png": (None, 422, "truncated or corrupt"),
    "bomb header": (None, 413, "too large"),
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
@pytest.mark.parametrize("url", ["/api/digit", "/api/photo", "/api/predict/mlp"])
def test_bad_uploads_get_clear_4xx_and_the_server_keeps_serving(client, url, case, photo_png):
    data, status, words = BAD_UPLOADS[case]
    if case == "truncated png":
        data = photo_png[: len(photo_png) // 2]
    if case == "bomb header":
        data = _bomb_png()
    response = post(client, url, data)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"] and response.json()["error"]
    assert client.get("/api/health").status_code == 200


def _bomb_png() -> bytes:
    import struct
    import zlib

    data = bytearray(encode(Image.new("L", (1, 1))))
    data[16:24] = struct.pack(">II", 40_000, 40_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGBA", (40, 40), (0, 0, 0, 255)),
        Image.fromarray(np.zeros((40, 40), np.uint16)),
        Image.new("L", (40, 40), 255),
    ],
    ids=["rgba", "16-bit", "white"],
)
def test_empty_canvas_in_any_mode_is_422(client, image):
    response = post(client, "/api/digit", encode(image))
    assert response.status_code == 422 and "canvas is empty" in response.json()["detail"]


@pytest.mark.parametrize(
    "image",
    [
        Image.new("CMYK", (50, 40), (0, 255, 255, 0)),
        Image.new("RGBA", (50, 40), (10, 200, 10, 128)),
        Image.fromarray((np.arange(2000, dtype=np.uint16) * 30).reshape(40, 50)),
        Image.new("P", (50, 40), 3),
    ],
    ids=["cmyk", "rgba", "16-bit", "palette"],
)
def test_other_modes_are_converted_and_classified(client, image):
    fmt = "JPEG" if image.mode == "CMYK" else "PNG"
    response = post(client, "/api/photo", encode(image, fmt))
    assert response.status_code == 200, response.text


def test_requests_without_an_image_field_are_400(client):
    assert client.post("/api/photo", files={"file": ("a.png", b"x")}).status_code == 400
    response = client.post("/api/photo", json={"image": "a"})
    assert response.status_code == 400 and "multipart/form-data" in response.json()["detail"]


def test_oversized_bodies_are_413_declared_or_streamed(tiny_runs):
    client = TestClient(
        create_app(DemoConfig(runs_root=tiny_runs, limits=ImageLimits(max_bytes=1000)))
    )
    big = b"\x89PNG" + b"0" * 200_000
    assert post(client, "/api/photo", big).status_code == 413

    def chunks():  # a valid multipart start, then far too many file bytes, no Content-Length
        yield (
            b'--x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
            b"Content-Type: image/png\r\n\r\n"
        )
        for _ in range(100):
            yield b"0" * 10_000

    response = client.post(
        "/api/photo", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert response.status_code == 413 and "larger than" in response.json()["detail"]
    file_over_limit = b"\x89PNG" + b"0" * 5000  # over max_bytes, under the body cap
    response = post(client, "/api/photo", file_over_limit)
    assert response.status_code == 413 and "limit is 1,000 bytes" in response.json()["detail"]


def test_unknown_model_is_404(client, digit_png):
    assert post(client, "/api/predict/resnet", digit_png).status_code == 404


def test_cards_listing_and_pages(tiny_runs, tmp_path):
    cards = tmp_path / "packages/keras_models/model_cards"
    cards.mkdir(parents=True)
    (cards / "keras_mnist_cnn.html").write_text("<html>AUTOGRADER CARD</html>")
    client = TestClient(
        create_app(DemoConfig(runs_root=tiny_runs, cards_root=tmp_path / "packages"))
    )
    listing = {card["name"]: card["source"] for card in client.get("/api/cards").json()}
    assert listing == {
        "keras_mnist_cnn": "autograder",
        "autograd_mnist_mlp": "run",
        "keras_animals3_transfer": "run",
    }
    assert "AUTOGRADER CARD" in client.get("/cards/keras_mnist_cnn").text
    page = client.get("/cards/autograd_mnist_mlp").text
    assert "Tiny &lt;untrained&gt; test model." in page and "make grade" in page
    for name in ("nope", "..%2F..%2Fetc%2Fpasswd", "keras_mnist_cnn.html"):
        assert client.get(f"/cards/{name}").status_code == 404
