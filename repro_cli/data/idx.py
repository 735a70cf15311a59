"""The IDX file format of MNIST (LeCun's 'ubyte' files), raw or gzip-compressed.

Header: two zero bytes, a type code (0x08 = uint8, ...), the number of dimensions, then one
big-endian uint32 per dimension; the data follow in C order, big-endian. torchvision reads the
uncompressed files itself; this module checks them first (so a truncated download is one clear
error instead of an assertion deep inside torchvision), unpacks `.gz` copies, and writes IDX files
(for tests and for anyone building a small MNIST-format data set).
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from repro_cli.errors import DataError

# IDX type code -> numpy dtype (big-endian where it matters)
DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
CODES = {dtype.newbyteorder(">") if dtype.itemsize > 1 else dtype: code for code, dtype in DTYPES.items()}


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def read_header(path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, shape, header size) of an IDX file; DataError if it is not one."""
    path = Path(path)
    try:
        with _open(path) as fh:
            head = fh.read(4)
            if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in DTYPES or not 1 <= head[3] <= 4:
                raise DataError(f"{path} is not an IDX file (bad magic number {head.hex() or 'empty'}); "
                                "re-download it or delete it so it can be fetched again")
            ndim = head[3]
            dims = fh.read(4 * ndim)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path} cannot be read ({err}); re-download it or delete it so it can be fetched again") from None
    if len(dims) < 4 * ndim:
        raise DataError(f"{path} is truncated inside its header; re-download it")
    return DTYPES[head[2]], struct.unpack(f">{ndim}I", dims), 4 + 4 * ndim


def check_idx(path: Path) -> tuple[int, ...]:
    """Check that an uncompressed IDX file holds exactly the data its header announces; return the shape."""
    dtype, shape, header = read_header(path)
    expected = header + int(np.prod(shape)) * dtype.itemsize
    actual = Path(path).stat().st_size
    if actual != expected:
        what = "truncated" if actual < expected else "longer than its header says"
        raise DataError(f"{path} is {what} ({actual} bytes, expected {expected} for shape {shape}); "
                        "re-download it or delete it so it can be fetched again")
    return shape


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file (raw or .gz), in native byte order."""
    path = Path(path)
    dtype, shape, header = read_header(path)
    with _open(path) as fh:
        fh.seek(header)
        body = fh.read()
    count = int(np.prod(shape))
    if len(body) != count * dtype.itemsize:
        raise DataError(f"{path} holds {len(body)} data bytes, expected {count * dtype.itemsize} for shape {shape}; re-download it")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write `array` as an IDX file; a `.gz` suffix compresses it. Written atomically."""
    path = Path(path)
    array = np.ascontiguousarray(array)
    stored = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if stored not in CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    payload = bytes([0, 0, CODES[stored], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(stored).tobytes()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with (gzip.open(tmp, "wb") if path.suffix == ".gz" else tmp.open("wb")) as fh:
        fh.write(payload)
    os.replace(tmp, path)
    return path


def gunzip(source: Path, target: Path) -> Path:
    """Unpack a `.gz` IDX file next to itself (atomically), checking it is a complete IDX file."""
    return write_idx(target, read_idx(source))
