"""`repro evaluate`: run metrics on a run's checkpoint and append them to its metrics log; or score
a folder of images (`--images`); or check the FID/IS pipeline itself (`--self-test`)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import typer
from rich.table import Table

from repro_cli import registries as R
from repro_cli.cli.app import app, console, err_console, handles_errors, resolve_device
from repro_cli.cli.commands.train import data_context
from repro_cli.config.validate import bind_signature
from repro_cli.errors import ReproError
from repro_cli.metrics import inception_weights
from repro_cli.runs.checkpoint import restore_trainer
from repro_cli.runs.rundir import Run

METRIC_ALIASES = {"is": "inception-score"}


def format_protocol(protocol: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(protocol.items()))


def metric_names(metrics: str | None, default: list[str]) -> list[str]:
    if not metrics:
        return default
    return [METRIC_ALIASES.get(n.strip(), n.strip()) for n in metrics.split(",") if n.strip()]


def use_weights(weights: Path | None, allow_unofficial: bool) -> None:
    """--weights / --allow-unofficial-weights act through the environment variables the metrics
    read, so a recipe's [eval] metrics see them too."""
    if weights is not None:
        os.environ[inception_weights.WEIGHTS_ENV] = str(weights)
    if allow_unofficial:
        os.environ[inception_weights.ALLOW_UNOFFICIAL_ENV] = "1"


@app.command()
@handles_errors
def evaluate(
    run_dir: Path = typer.Argument(None, help="A run directory (not needed with --images or --self-test)."),
    checkpoint: str = typer.Option("last", "--checkpoint", help="'last', 'best' or an iteration number."),
    metrics: str = typer.Option(None, "--metrics", help="Comma-separated metric names, e.g. fid,is (default: the recipe's [eval] metrics; fid,is for --images)."),
    n_fake: int = typer.Option(None, "--n-fake", min=2, help="Generated images for fid / inception-score."),
    n_real: int = typer.Option(None, "--n-real", min=2, help="Reference images for fid."),
    ref: str = typer.Option(None, "--ref", help="FID reference: 'train' (the run's data), 'test', a set (cifar10-train, cifar10-test, ...), a stats .npz or an image folder."),
    splits: int = typer.Option(10, "--splits", min=1, help="Inception Score splits (--images)."),
    images: Path = typer.Option(None, "--images", help="Score these images instead of a run: a folder, an .npz of uint8 images, or a stats .npz (FID only)."),
    save_stats: Path = typer.Option(None, "--save-stats", help="With --images: also write their (mu, sigma) .npz (pytorch-fid format)."),
    self_test: bool = typer.Option(False, "--self-test", help="Check the FID/IS pipeline on --ref (default cifar10-train) or --images."),
    n: int = typer.Option(None, "--n", min=2, help="Images used by --self-test (default 2000; 50000 for the published anchors)."),
    seed: int = typer.Option(0, "--seed", help="Subset seed for --images / --self-test."),
    batch_size: int = typer.Option(100, "--batch-size", min=1, help="Images per Inception forward pass."),
    weights: Path = typer.Option(None, "--weights", "--inception-weights", help="Inception weights file (else $REPRO_INCEPTION_WEIGHTS, else torch hub cache)."),
    allow_unofficial: bool = typer.Option(False, "--allow-unofficial-weights", help="Accept weights whose hash is not the official file's (values are marked UNOFFICIAL)."),
    device: str = typer.Option("cpu", "--device"),
    data_dir: Path = typer.Option(None, "--data-dir", help="Where datasets live."),
    offline: bool = typer.Option(False, "--offline", help="Never download."),
) -> None:
    """Evaluate a run's generator/discriminator at a checkpoint, a folder of images, or the metric
    pipeline itself. Every value is printed and logged with its protocol (samples, reference, seed,
    checkpoint, weights)."""
    use_weights(weights, allow_unofficial)
    ctx = data_context(data_dir, offline)
    if self_test or images is not None:
        if run_dir is not None:
            raise ReproError("give either a run directory or --images / --self-test, not both")
        _evaluate_without_run(images, self_test, metrics, ref, n_fake, n_real, n, splits, seed, batch_size,
                              save_stats, resolve_device(device), ctx)
        return
    if run_dir is None:
        raise ReproError("give a run directory, --images DIR or --self-test (see repro evaluate --help)")
    run = Run.open(run_dir)
    trainer, path, warnings = restore_trainer(run, checkpoint, resolve_device(device), ctx)
    for w in warnings:
        err_console.print(f"[yellow]warning:[/] {w}; using an older checkpoint")
    overrides = {"n_fake": n_fake, "n_real": n_real, "ref": ref}
    if metrics or any(v is not None for v in overrides.values()):
        recipe_params = {m.name: m.params for m in trainer.recipe.eval.metrics}
        trainer.metrics = []
        for name in metric_names(metrics, list(recipe_params)):
            factory = R.METRICS.get(name, where="--metrics")
            accepted = inspect.signature(factory).parameters
            given = {k: v for k, v in overrides.items() if v is not None and k in accepted}
            if n_fake is not None and "n_samples" in accepted:  # --n-fake is the IS sample count too
                given["n_samples"] = n_fake
            params = bind_signature(factory, {**recipe_params.get(name, {}), **given}, f"metric {name}")
            trainer.metrics.append(factory(**params))
    if not trainer.metrics:
        raise ReproError(f"recipe {trainer.recipe.name!r} defines no metrics; pass --metrics (known: {', '.join(R.METRICS.names())})")
    records = trainer.evaluate(run)
    for rec in records:
        rec["protocol"]["checkpoint"] = f"{path.name} (iteration {trainer.iteration})"
        rec["protocol"]["source"] = "repro evaluate"
        run.log(rec)
    print_records(records, f"{run.path.name} at {path.name}")


def print_records(records: list[dict], title: str) -> None:
    table = Table(title=title)
    for col in ("metric", "value", "protocol"):
        table.add_column(col, overflow="fold")
    for rec in records:
        table.add_row(rec["name"], f"{rec['value']:.6g}", format_protocol(rec["protocol"]))
    console.print(table)


def _evaluate_without_run(images, self_test, metrics, ref, n_fake, n_real, n, splits, seed, batch_size,
                          save_stats, device, ctx) -> None:
    from repro_cli.metrics.inception_features import extractor

    if not self_test and ref is None and "fid" in metric_names(metrics, ["fid"]):
        raise ReproError("--images: FID needs --ref (e.g. cifar10-train, cifar10-test, a stats .npz or an image folder)")
    net = extractor(device, ctx.download)
    if self_test:
        _self_test(images, ref or "cifar10-train", net, ctx, n or 2000, seed, batch_size)
        return
    from repro_cli.metrics.image_eval import evaluate_images

    records = evaluate_images(images, metric_names(metrics, ["fid", "inception-score"]), net, ctx, ref=ref,
                              n_fake=n_fake, n_real=n_real, splits=splits, seed=seed, batch_size=batch_size,
                              save_stats=save_stats)
    print_records(records, f"images {images}")
    if save_stats is not None:
        console.print(f"statistics written to {save_stats}")


def _self_test(images, ref, net, ctx, n, seed, batch_size) -> None:
    from repro_cli.metrics.image_sets import load_images
    from repro_cli.metrics.reference_stats import load_reference_set
    from repro_cli.metrics.self_test import run_self_test

    pixels, name = (load_images(images), str(images)) if images is not None else (load_reference_set(ref, ctx), ref)
    rows = run_self_test(pixels, name, net, ctx, n=n, seed=seed, batch_size=batch_size)
    table = Table(title=f"FID/IS self-test: {format_protocol(rows[0]['protocol'])}")
    for col in ("check", "value", "expected", "result"):
        table.add_column(col, overflow="fold")
    for row in rows:
        value = row["value"] if isinstance(row["value"], str) else f"{row['value']:.6g}"
        result = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: f"[yellow]skipped[/] ({row.get('note')})"}[row["ok"]]
        table.add_row(row["check"], value, row["expected"], result)
    console.print(table)
    if any(row["ok"] is False for row in rows):
        raise ReproError("self-test failed: these FID/IS values cannot be trusted on this setup (see the table)")
