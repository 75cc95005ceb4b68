import hashlib
import io
import zipfile

import numpy as np
import pytest

from tfsnorkel import datasets
from tfsnorkel.datasets import DatasetNotFoundError, load_wrench, load_youtube_spam_collection


@pytest.mark.data
def test_wrench_sets_have_documented_shapes(data_dir):
    expected = {"youtube": (2, 10, 1586, 120, 250), "sms": (2, 73, 4571, 500, 500),
                "trec": (6, 68, 5033, 500, 500)}
    for name, (c, m, ntr, nva, nte) in expected.items():
        ds = load_wrench(name, data_dir)
        assert (ds.cardinality, ds.n_lfs) == (c, m)
        assert (len(ds.train), len(ds.valid), len(ds.test)) == (ntr, nva, nte)
        assert ds.train.L.dtype == np.int32 and ds.train.L.min() >= -1 and ds.train.L.max() < c
        assert "text" in ds.train.frame.columns
    assert load_wrench("youtube", data_dir).label_names == ("HAM", "SPAM")


@pytest.mark.data
def test_youtube_spam_collection(data_dir):
    df = load_youtube_spam_collection(data_dir)
    assert len(df) == 1956
    assert set(df["CLASS"]) == {0, 1}
    assert sorted(df["video"].unique()) == ["Eminem", "KatyPerry", "LMFAO", "Psy", "Shakira"]


@pytest.mark.data
def test_local_files_match_pinned_checksums(data_dir):
    for rel, digest in datasets.CHECKSUMS.items():
        assert hashlib.sha256((data_dir / rel).read_bytes()).hexdigest() == digest, rel


@pytest.mark.data
def test_download_path_verifies_and_caches(data_dir, tmp_path, monkeypatch):
    """The real download code, fed from file:// URLs (no network here)."""
    monkeypatch.delenv("TFSNORKEL_DATA_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TFSNORKEL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "WRENCH_URL",
                        (data_dir / "wrench").as_uri() + "/{name}/{file}")
    ds = load_wrench("youtube")
    assert len(ds.train) == 1586
    assert (tmp_path / "cache" / "wrench" / "youtube" / "train.json").is_file()
    # the youtube zip: build one from the CSVs and serve it from disk
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted((data_dir / "youtube_spam_collection").glob("*.csv")):
            zf.write(p, p.name)
    zpath = tmp_path / "yt.zip"
    zpath.write_bytes(buf.getvalue())
    monkeypatch.setattr(datasets, "YOUTUBE_ZIP_URL", zpath.as_uri())
    assert len(load_youtube_spam_collection()) == 1956


def test_download_rejects_checksum_mismatch(tmp_path, monkeypatch):
    monkeypatch.delenv("TFSNORKEL_DATA_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TFSNORKEL_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "src" / "youtube"
    src.mkdir(parents=True)
    for f in ("label.json", "train.json", "valid.json", "test.json"):
        (src / f).write_text("{}")
    monkeypatch.setattr(datasets, "WRENCH_URL", (tmp_path / "src").as_uri() + "/{name}/{file}")
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch for wrench/youtube/label.json"):
        load_wrench("youtube")
    assert not (tmp_path / "cache" / "wrench" / "youtube" / "label.json").exists()


def test_offline_error_is_actionable(tmp_path, monkeypatch):
    monkeypatch.delenv("TFSNORKEL_DATA_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TFSNORKEL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "WRENCH_URL", (tmp_path / "nowhere").as_uri() + "/{name}/{file}")
    with pytest.raises(DatasetNotFoundError, match="TFSNORKEL_DATA_DIR"):
        load_wrench("youtube")


def test_missing_files_in_explicit_dir(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="lacks wrench/sms/label.json"):
        load_wrench("sms", tmp_path)
