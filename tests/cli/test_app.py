"""The app: version, help, one-line errors, seeds and devices."""

import subprocess
import sys

import pytest
import typer

from repro_cli.cli.app import fail, handles_errors, parse_seeds, resolve_device
from repro_cli.errors import ConfigError, ReproError


def test_version_and_help(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.output.strip().startswith("repro 0.")
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("train", "recipes", "surface"):
        assert command in result.output


@pytest.mark.parametrize("command", [["train"], ["recipes"], ["recipes", "show"], ["surface"]])
def test_every_subcommand_explains_itself(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 5


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "repro_cli", "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("repro ")


def test_user_errors_are_one_line_without_traceback(capsys):
    @handles_errors
    def broken():
        raise ConfigError("optim.lr_d: expected a number, got 'x'\nsecond line")

    with pytest.raises(typer.Exit) as exit_info:
        broken()
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: optim.lr_d: expected a number, got 'x' second line"


def test_markup_in_messages_is_printed_literally(capsys):
    fail("recipe '[bold]x[/bold]' and [data] section")
    assert "recipe '[bold]x[/bold]' and [data] section" in capsys.readouterr().err


def test_parse_seeds():
    assert parse_seeds(None, None) == [0]
    assert parse_seeds(4, None) == [4]
    assert parse_seeds(None, "0,1,2") == [0, 1, 2]
    assert parse_seeds(None, "0-2,7,1") == [0, 1, 2, 7]
    for bad in ("a", "3-1", "1,,2"):
        with pytest.raises(ReproError, match="expected comma-separated seeds"):
            parse_seeds(None, bad)
    with pytest.raises(ReproError, match="either --seed or --seeds"):
        parse_seeds(1, "1")


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in ("cpu", "cuda")
    with pytest.raises(ReproError, match="expected cpu, cuda"):
        resolve_device("tpu")
