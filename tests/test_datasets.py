"""load_rugged: the local folder, the cache, the download, and validation of each."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

from pplkit import datasets
from pplkit.datasets import DatasetNotFoundError, DatasetValidationError, load_rugged


@pytest.fixture
def good_bytes(rugged_data_dir: Path) -> bytes:
    return (rugged_data_dir / "rugged_data.csv").read_bytes()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user cache, no PPLKIT_DATA_DIR, and no network: downloads fail by default."""
    monkeypatch.delenv("PPLKIT_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    def offline(url: str, timeout: float) -> bytes:
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(datasets, "_download", offline)
    return tmp_path / "xdg" / "pplkit"


def serve(monkeypatch: pytest.MonkeyPatch, content: bytes) -> list[str]:
    """Make the download return ``content``; the returned list records each URL fetched."""
    fetched: list[str] = []

    def download(url: str, timeout: float) -> bytes:
        fetched.append(url)
        return content

    monkeypatch.setattr(datasets, "_download", download)
    return fetched


def damaged(good: bytes, how: str) -> bytes:
    lines = good.split(b"\n")
    if how == "truncated":  # whole rows lost
        return b"\n".join(lines[:120]) + b"\n"
    if how == "cut mid-line":  # a copy interrupted part way through
        return good[: len(good) // 2]
    if how == "edited value":  # Aruba's ruggedness 0.462 -> 0.463: same shape, wrong data
        return good.replace(b'"Aruba",0.462,', b'"Aruba",0.463,', 1)
    if how == "missing column":
        return b"\n".join(line.rsplit(b",", 1)[0] for line in lines)
    if how == "not a csv":
        return bytes(range(256)) * 40
    if how == "empty":
        return b""
    raise ValueError(how)


DAMAGE = ["truncated", "cut mid-line", "edited value", "missing column", "not a csv", "empty"]


def check_rugged(frame) -> None:
    assert frame.shape == (234, 51)
    assert int(frame["cont_africa"].sum()) == 57
    assert int(frame["rgdppc_2000"].notna().sum()) == 170
    aruba = frame.set_index("isocode").loc["ABW"]
    assert aruba["rugged"] == pytest.approx(0.462)


def test_reads_the_folder_named_by_the_environment(rugged_data_dir, cache, monkeypatch):
    monkeypatch.setenv("PPLKIT_DATA_DIR", str(rugged_data_dir))
    check_rugged(load_rugged())
    assert not cache.exists()


def test_environment_folder_without_the_file_is_an_error(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("PPLKIT_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match="PPLKIT_DATA_DIR") as info:
        load_rugged()
    assert str(tmp_path / "rugged_data.csv") in str(info.value)


@pytest.mark.parametrize("how", DAMAGE)
def test_bad_file_in_environment_folder_is_an_error(how, good_bytes, tmp_path, cache, monkeypatch):
    serve(monkeypatch, good_bytes)  # a good download must not hide the bad local file
    bad = tmp_path / "rugged_data.csv"
    bad.write_bytes(damaged(good_bytes, how))
    monkeypatch.setenv("PPLKIT_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetValidationError, match=str(bad)):
        load_rugged()
    assert bad.read_bytes() == damaged(good_bytes, how)


def test_line_endings_and_quoting_do_not_matter(good_bytes, tmp_path, cache, monkeypatch):
    monkeypatch.setenv("PPLKIT_DATA_DIR", str(tmp_path))
    (tmp_path / "rugged_data.csv").write_bytes(good_bytes.replace(b"\n", b"\r\n"))
    check_rugged(load_rugged())

    requoted = load_rugged()
    requoted.to_csv(tmp_path / "rugged_data.csv", index=False, quoting=1, encoding="ISO-8859-1")
    check_rugged(load_rugged())


def test_valid_cached_file_is_used_without_downloading(good_bytes, cache):
    cache.mkdir(parents=True)
    (cache / "rugged_data.csv").write_bytes(good_bytes)
    check_rugged(load_rugged())  # the download raises, so this came from the cache


@pytest.mark.parametrize("how", ["truncated", "edited value"])
def test_bad_cached_file_is_removed_and_downloaded_again(how, good_bytes, cache, monkeypatch):
    cache.mkdir(parents=True)
    (cache / "rugged_data.csv").write_bytes(damaged(good_bytes, how))
    fetched = serve(monkeypatch, good_bytes)
    with pytest.warns(UserWarning, match="Removing invalid cached data"):
        check_rugged(load_rugged())
    assert fetched == [datasets.RUGGED_URL]
    assert (cache / "rugged_data.csv").read_bytes() == good_bytes


def test_bad_cached_file_offline_is_removed_and_reported(good_bytes, cache):
    cache.mkdir(parents=True)
    (cache / "rugged_data.csv").write_bytes(damaged(good_bytes, "cut mid-line"))
    with pytest.warns(UserWarning), pytest.raises(DatasetNotFoundError, match="cached copy was invalid"):
        load_rugged()
    assert not (cache / "rugged_data.csv").exists()


def test_missing_file_offline_says_where_to_put_it(cache):
    with pytest.raises(DatasetNotFoundError) as info:
        load_rugged()
    message = str(info.value)
    assert "network is unreachable" in message
    assert str(cache) in message and "PPLKIT_DATA_DIR" in message


def test_download_is_validated_then_cached_atomically(good_bytes, cache, monkeypatch):
    fetched = serve(monkeypatch, good_bytes)
    check_rugged(load_rugged())
    check_rugged(load_rugged())
    assert fetched == [datasets.RUGGED_URL]  # the second call read the cache
    assert [p.name for p in cache.iterdir()] == ["rugged_data.csv"]  # no temp file left
    umask = os.umask(0)
    os.umask(umask)
    assert (cache / "rugged_data.csv").stat().st_mode & 0o777 == 0o666 & ~umask  # a normal file, not 0o600


def test_bad_download_is_an_error_and_not_cached(good_bytes, cache, monkeypatch):
    serve(monkeypatch, damaged(good_bytes, "truncated"))
    with pytest.raises(DatasetValidationError, match="download from https://"):
        load_rugged()
    assert not (cache / "rugged_data.csv").exists()


def test_importing_pplkit_does_not_import_pandas():
    code = "import sys, pplkit, pplkit.datasets; assert 'pandas' not in sys.modules, 'pandas imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
