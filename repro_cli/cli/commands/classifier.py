"""`repro classifier`: train (or check) the cached MNIST digit classifier of the mode-coverage metric."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from repro_cli.cli.app import app, console, handles_errors
from repro_cli.cli.commands.train import data_context
from repro_cli.errors import ReproError


@app.command()
@handles_errors
def classifier(
    data_dir: Path = typer.Option(None, "--data-dir", help="Where MNIST lives (default $REPRO_DATA_DIR or ~/.cache/repro/data)."),
    offline: bool = typer.Option(False, "--offline", help="Never download MNIST (also REPRO_OFFLINE=1)."),
    check: bool = typer.Option(False, "--check", help="Only report the cached classifier; fail if there is none."),
    retrain: bool = typer.Option(False, "--retrain", help="Train a new classifier even if one is cached."),
    require: float = typer.Option(None, "--require", min=0, max=1, help="Exit non-zero if the test accuracy is below this (e.g. 0.98)."),
    epochs: int = typer.Option(10, "--epochs", min=1, help="Training epochs (authors: 10)."),
    lr: float = typer.Option(0.01, "--lr", min=0, help="SGD learning rate (authors: 0.01)."),
    momentum: float = typer.Option(0.5, "--momentum", min=0, max=1, help="SGD momentum (authors: 0.5)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Minibatch size (PyTorch MNIST example: 64)."),
    seed: int = typer.Option(0, "--seed", min=0),
) -> None:
    """Train the LeNet digit classifier on your MNIST training set and cache it (or, with --check,
    show the cached one). Mode-coverage numbers name this classifier's id and test accuracy."""
    from repro_cli.classifier import TrainSettings, get_classifier

    ctx = data_context(data_dir, offline)
    settings = TrainSettings(epochs=epochs, lr=lr, momentum=momentum, batch_size=batch_size, seed=seed)
    with console.status("loading the cached classifier, or training one (on 60k MNIST images: minutes per epoch on a CPU)"):
        clf = get_classifier(ctx.root, ctx.download, settings, retrain=retrain, train=not check,
                             on_epoch=lambda e, loss: console.print(f"epoch {e}/{epochs}: training loss {loss:.4f}"))
    table = Table(title="MNIST digit classifier")
    for col in ("id", "test accuracy", "protocol", "file"):
        table.add_column(col, overflow="fold")
    settings_text = ", ".join(f"{k}={v}" for k, v in clf.settings.items())
    table.add_row(clf.id, f"{clf.test_accuracy:.2%}", f"trained on {clf.n_train} images, tested on {clf.n_test} test-split images; {settings_text}", str(clf.path))
    console.print(table)
    if require is not None and clf.test_accuracy < require:
        raise ReproError(f"classifier {clf.id}: test accuracy {clf.test_accuracy:.2%} is below the required {require:.2%}; "
                         "retrain with more epochs (--retrain --epochs N) or check the data")
