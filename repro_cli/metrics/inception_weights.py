"""Where the FID Inception weights come from, offline first.

pytorch-fid 0.3 only knows one way to get its weights: `load_state_dict_from_url`, which loads
`$TORCH_HOME/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth` if present and downloads it
otherwise. Users behind firewalls need to point at a file instead, so the file is resolved here:

  1. an explicit path (`--weights FILE`),
  2. the environment variable $REPRO_INCEPTION_WEIGHTS,
  3. torch hub's cache, exactly where pytorch-fid itself looks,
  4. a download into that cache (unless offline),

and its SHA-256 prefix is checked against the one in the official file name (torch hub's
`<name>-<sha256 prefix>.pth` convention). A file with another hash (e.g. the randomly initialised
weights the tests write) is refused unless explicitly allowed, and then every value carries
`UNOFFICIAL` in its protocol: such numbers are not comparable to any paper.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import torch

from repro_cli.data.base import offline_from_env
from repro_cli.errors import DataError

FILENAME = "pt_inception-2015-12-05-6726825d.pth"
OFFICIAL_SHA256_PREFIX = "6726825d"
WEIGHTS_ENV = "REPRO_INCEPTION_WEIGHTS"
ALLOW_UNOFFICIAL_ENV = "REPRO_ALLOW_UNOFFICIAL_INCEPTION"


def url() -> str:
    from pytorch_fid.inception import FID_WEIGHTS_URL

    return FID_WEIGHTS_URL


def hub_cache_path() -> Path:
    """Where pytorch-fid (through torch.hub) stores and looks for the weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / FILENAME


def how_to_get() -> str:
    return (f"download {url()} and pass --weights FILE, set ${WEIGHTS_ENV}=FILE, "
            f"or copy it to {hub_cache_path()} (see `repro weights`)")


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    path: Path
    source: str  # which rule found it: 'explicit', 'env', 'hub cache', 'downloaded'
    sha256: str

    @property
    def official(self) -> bool:
        return self.sha256.startswith(OFFICIAL_SHA256_PREFIX)

    def describe(self) -> str:
        """The protocol entry every metric value carries."""
        tag = "official 2015-12-05 FID Inception" if self.official else "UNOFFICIAL, not comparable to papers"
        return f"sha256:{self.sha256[:8]} ({tag})"


def candidates(explicit: str | Path | None = None) -> list[tuple[str, Path | None]]:
    """The places looked at, in order (None where a rule gives no path)."""
    env = os.environ.get(WEIGHTS_ENV)
    return [
        ("explicit --weights", Path(explicit).expanduser() if explicit else None),
        (f"${WEIGHTS_ENV}", Path(env).expanduser() if env else None),
        ("torch hub cache", hub_cache_path()),
    ]


_HASHES: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, memoised per (path, size, mtime) so repeated evaluations hash once."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def allow_unofficial_from_env() -> bool:
    return os.environ.get(ALLOW_UNOFFICIAL_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def resolve(explicit: str | Path | None = None, download: bool | None = None, allow_unofficial: bool | None = None) -> WeightsFile:
    """The first existing file among the candidates, hash-checked; else a download (if allowed);
    else a DataError saying how to get the file."""
    download = (not offline_from_env()) if download is None else download
    allow_unofficial = allow_unofficial_from_env() if allow_unofficial is None else allow_unofficial
    for source, path in candidates(explicit):
        if path is None:
            continue
        if path.is_file():
            return verify(path, source, allow_unofficial)
        if source != "torch hub cache":  # a path the user gave that does not exist is an error, not a fallthrough
            raise DataError(f"Inception weights {source} = {path}: no such file; {how_to_get()}")
    if not download:
        raise DataError(f"FID Inception weights not found (offline); {how_to_get()}")
    target = hub_cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url(), str(target), hash_prefix=None, progress=True)
    except Exception as err:  # no network, proxy, HTTP error: all end the same way for the user
        raise DataError(f"could not download the FID Inception weights ({type(err).__name__}: {err}); {how_to_get()}") from None
    return verify(target, "downloaded", allow_unofficial)


def verify(path: Path, source: str, allow_unofficial: bool) -> WeightsFile:
    found = WeightsFile(path, source, sha256_of(path))
    if not found.official and not allow_unofficial:
        raise DataError(
            f"Inception weights {path} have sha256 prefix {found.sha256[:8]}, expected {OFFICIAL_SHA256_PREFIX} "
            f"(wrong, truncated or re-saved file); re-download it ({url()}), or set {ALLOW_UNOFFICIAL_ENV}=1 / "
            f"--allow-unofficial-weights to use it anyway (values are then marked UNOFFICIAL)"
        )
    return found


def load_state_dict(weights: WeightsFile) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(weights.path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a truncated or foreign file
        raise DataError(f"Inception weights {weights.path} cannot be loaded ({type(err).__name__}); "
                        f"the file is truncated or not a state dict; {how_to_get()}") from None
    if not isinstance(state, dict) or "fc.weight" not in state:
        raise DataError(f"Inception weights {weights.path} are not a pytorch-fid Inception state dict "
                        f"(no 'fc.weight'); {how_to_get()}")
    return state
