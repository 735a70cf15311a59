"""`repro weights`: where the FID Inception weights are looked for, what was found, and whether a
file is the official one (SHA-256 prefix of the pytorch-fid release file)."""

from __future__ import annotations

from pathlib import Path

import typer

from repro_cli.cli.app import app, console, handles_errors
from repro_cli.data.base import offline_from_env
from repro_cli.errors import DataError
from repro_cli.metrics import inception_weights as W


@app.command()
@handles_errors
def weights(
    path: Path = typer.Option(None, "--weights", "--inception-weights", help="An explicit weights file (looked at first)."),
    verify: Path = typer.Option(None, "--verify", help="Check this file's hash and that it loads as the Inception state dict."),
) -> None:
    """Show where the FID Inception weights are looked for (in order) and what was found there."""
    if verify is not None:
        if not verify.is_file():
            raise DataError(f"--verify {verify}: no such file")
        found = W.verify(verify, "--verify", allow_unofficial=True)
        W.load_state_dict(found)
        console.print(f"{verify}: sha256 {found.sha256}; loads as an Inception state dict; {found.describe()}", soft_wrap=True)
        if not found.official:
            raise DataError(f"{verify} is not the official {W.FILENAME} (sha256 prefix {found.sha256[:8]}, expected {W.OFFICIAL_SHA256_PREFIX})")
        return
    console.print(f"FID Inception weights ({W.FILENAME}), looked for in this order:", highlight=False, soft_wrap=True)
    for i, (rule, candidate) in enumerate(W.candidates(path), 1):
        status = "not set" if candidate is None else ("found" if candidate.is_file() else "missing")
        if status == "found":
            status = f"found, {W.WeightsFile(candidate, rule, W.sha256_of(candidate)).describe()}"
        console.print(f"  {i}. {rule}: {candidate or '-'} [{status}]", highlight=False, soft_wrap=True, markup=False)
    download = "disabled (offline: REPRO_OFFLINE)" if offline_from_env() else f"into {W.hub_cache_path()} when needed"
    console.print(f"  4. download {W.url()} [{download}]", highlight=False, soft_wrap=True, markup=False)
    console.print(f"To use a file: --weights FILE, ${W.WEIGHTS_ENV}=FILE, or copy it to {W.hub_cache_path()}.",
                  highlight=False, soft_wrap=True)
