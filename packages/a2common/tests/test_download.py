"""Download code, tested against a local HTTP server on 127.0.0.1 only (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from a2common import data, download
from a2common.data import DataFile, DatasetChecksumError, DatasetSpec


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from ``directory``, honouring ``Range: bytes=N-`` like real servers do."""

    def do_GET(self):
        # Record before answering: the client may finish reading before a later append runs.
        self.server.requests.append(self.headers.get("Range"))
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        payload = path.read_bytes()
        start = 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].rstrip("-"))
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(payload) - start))
        self.end_headers()
        self.wfile.write(payload[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = lambda *a, **k: RangeHandler(*a, directory=str(served), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}", httpd.requests
    httpd.shutdown()


@pytest.fixture
def toy_dataset(monkeypatch):
    payload = b"toy dataset bytes " * 1000
    spec = DatasetSpec(
        "toy",
        (DataFile("toy/file.bin", hashlib.sha256(payload).hexdigest()),),
        reader=lambda paths: None,
        description="toy",
        how_to_get="",
    )
    monkeypatch.setitem(data.DATASETS, "toy", spec)
    return payload


def test_downloads_from_mirror_and_verifies(server, toy_dataset, tmp_path):
    served, url, _ = server
    (served / "toy").mkdir()
    (served / "toy" / "file.bin").write_bytes(toy_dataset)
    (path,) = download.download_dataset("toy", tmp_path / "dest", mirror=url)
    assert path.read_bytes() == toy_dataset
    assert not list((tmp_path / "dest").rglob("*.part"))


def test_checksum_mismatch_deletes_the_download(server, toy_dataset, tmp_path):
    served, url, _ = server
    (served / "toy").mkdir()
    (served / "toy" / "file.bin").write_bytes(b"tampered")
    with pytest.raises(data.DatasetError, match="sha256 is .* expected"):
        download.download_dataset("toy", tmp_path / "dest", mirror=url)
    assert not list((tmp_path / "dest").rglob("file.bin*"))


def test_interrupted_download_resumes_with_range(server, toy_dataset, tmp_path):
    served, url, requests = server
    (served / "toy").mkdir()
    (served / "toy" / "file.bin").write_bytes(toy_dataset)
    partial = tmp_path / "dest" / "toy" / "file.bin.part"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(toy_dataset[:5000])
    (path,) = download.download_dataset("toy", tmp_path / "dest", mirror=url)
    assert path.read_bytes() == toy_dataset
    assert requests == ["bytes=5000-"]


def test_no_source_says_how_to_get_it(toy_dataset, tmp_path, monkeypatch):
    monkeypatch.delenv(download.MIRROR_ENV, raising=False)
    with pytest.raises(data.DatasetError, match="ASSIGNMENT2_DATA_URL"):
        download.download_dataset("toy", tmp_path)


def test_unreachable_server_is_a_clear_error(toy_dataset, tmp_path):
    with pytest.raises(data.DatasetError, match="could not download toy/file.bin"):
        download.download_dataset("toy", tmp_path, mirror="http://127.0.0.1:9")


def test_download_file_raises_checksum_error_type(server, tmp_path):
    served, url, _ = server
    (served / "f").write_bytes(b"abc")
    with pytest.raises(DatasetChecksumError):
        download.download_file(f"{url}/f", tmp_path / "f", DataFile("f", "0" * 64))


def test_registered_public_sources_are_https_or_known():
    for spec in data.DATASETS.values():
        for data_file in spec.files:
            assert data_file.url is None or data_file.url.startswith(("http://", "https://"))
