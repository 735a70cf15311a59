import gzip

import numpy as np
import pytest

from repro_cli.data.idx import check_idx, gunzip, read_idx, write_idx
from repro_cli.errors import DataError


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("array", [np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4), np.array([-7, 0, 70000], dtype=np.int32)])
def test_roundtrip_raw_and_gzip(tmp_path, suffix, array):
    path = write_idx(tmp_path / f"a{suffix}", array)
    back = read_idx(path)
    assert back.dtype.kind == array.dtype.kind and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_header_is_lecuns_layout(tmp_path):
    write_idx(tmp_path / "img", np.zeros((5, 28, 28), dtype=np.uint8))
    data = (tmp_path / "img").read_bytes()
    assert data[:4] == bytes([0, 0, 0x08, 3])  # magic 2051 of the MNIST image files
    assert int.from_bytes(data[4:8], "big") == 5 and int.from_bytes(data[8:12], "big") == 28
    assert len(data) == 16 + 5 * 28 * 28
    assert check_idx(tmp_path / "img") == (5, 28, 28)


def test_truncated_file_is_a_clear_error(tmp_path):
    path = write_idx(tmp_path / "img", np.zeros((5, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"truncated .*re-download"):
        check_idx(path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "img"
    path.write_bytes(b"<html>404</html>")
    with pytest.raises(DataError, match="not an IDX file"):
        check_idx(path)


def test_corrupt_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "img.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"abc"))
    with pytest.raises(DataError, match="holds 3 data bytes, expected 10"):
        gunzip(path, tmp_path / "img")
    assert not (tmp_path / "img").exists()
