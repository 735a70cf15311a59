"""Finding a torchvision dataset in the data directory, with one clear error when it is not there.

Every image data set follows the same rules: it lives under the data directory (`--data-dir`, else
$REPRO_DATA_DIR, else ~/.cache/repro/data); torchvision may download it there unless the run is
offline (`--offline` or REPRO_OFFLINE=1); and a missing, corrupt or undownloadable data set raises a
`DataError` that says where the files were expected and how to provide them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from repro_cli.data.base import DATA_DIR_ENV, DataContext
from repro_cli.errors import DataError

T = TypeVar("T")


def how_to_provide(dataset: str, ctx: DataContext, url: str, into: str = "") -> str:
    """`into`: the sub-folder of the data directory the files belong in (e.g. MNIST/raw)."""
    fix = (f"download {url} and extract it into {Path(ctx.root) / into}, or point --data-dir (or ${DATA_DIR_ENV}) at the "
           f"directory that holds {dataset}")
    return fix if ctx.download else fix + ", or drop --offline / REPRO_OFFLINE=1 to let torchvision download it"


def open_torchvision(dataset: str, ctx: DataContext, expected: Sequence[str], url: str,
                     load: Callable[[bool], T], into: str = "") -> T:
    """`load(download)` with torchvision's failures turned into one-line DataErrors.

    `expected` are paths relative to `ctx.root` that must exist when nothing may be downloaded;
    checking them first gives a better message than torchvision's "not found or corrupted".
    """
    root = Path(ctx.root)
    missing = [name for name in expected if not (root / name).exists()]
    if missing and not ctx.download:
        raise DataError(f"{dataset} not found: {root / missing[0]} does not exist (offline, so nothing was "
                        f"downloaded); {how_to_provide(dataset, ctx, url, into)}")
    try:
        return load(ctx.download and bool(missing))
    except RuntimeError as err:  # torchvision: "Dataset not found or corrupted", or its multi-line download report
        raise DataError(f"{dataset} under {root} is incomplete or corrupt ({_one_line(err)}); delete it and "
                        f"{how_to_provide(dataset, ctx, url, into)}") from None
    except OSError as err:  # network failures (URLError is an OSError) and unreadable files
        raise DataError(f"{dataset} could not be read or downloaded into {root} ({_one_line(err)}); "
                        f"{how_to_provide(dataset, ctx, url, into)}") from None


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())
