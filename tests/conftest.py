"""Shared fixtures. Tests run offline, on CPU, with tiny budgets of the real recipes."""

from __future__ import annotations

import os

import pytest
import torch
from typer.testing import CliRunner

# Never touch the network or the user's data cache from tests.
os.environ["REPRO_OFFLINE"] = "1"
torch.set_num_threads(1)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Invoke `repro ...` through Typer's runner inside a temp dir; returns (exit_code, output)."""
    from repro_cli.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result

    return invoke
