"""`repro surface`: D's value surface next to the optimal D*, and their distance."""

from __future__ import annotations

from pathlib import Path

import typer

from repro_cli.cli.app import app, console, err_console, handles_errors, resolve_device
from repro_cli.config.recipes import expand_patterns, load_recipe
from repro_cli.errors import ReproError
from repro_cli.plots.surface import plot_surface
from repro_cli.runs.checkpoint import restore_trainer
from repro_cli.runs.execute import execute
from repro_cli.runs.rundir import Run, find_runs
from repro_cli.surface import compute_surface


def _completed_run(out: Path, name: str, seed: int) -> Run | None:
    runs = [r for r in find_runs(out / name) if r.info.get("status") == "completed" and r.info.get("seed") == seed] if (out / name).exists() else []
    return runs[-1] if runs else None


@app.command()
@handles_errors
def surface(
    run_dir: Path = typer.Argument(None, help="A run directory of a 2-D recipe."),
    recipe: str = typer.Option(None, "--recipe", "-r", help="Use the newest completed run of this recipe in --out (training one first if there is none)."),
    seed: int = typer.Option(0, "--seed", help="With --recipe: which seed."),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="With --recipe: the results folder."),
    checkpoint: str = typer.Option("last", "--checkpoint", help="'last' or an iteration number."),
    resolution: int = typer.Option(None, "--resolution", min=2, max=2000, help="Grid points per axis (default: the recipe's)."),
    device: str = typer.Option("cpu", "--device"),
) -> None:
    """Draw D's value surface over a grid with the real and fake points, next to D* = p_r/(p_r+p_g) when
    both densities are known, write PNG and PDF into the run's figures/, and record the weighted
    |D − D*| distance in the run's metrics log."""
    device = resolve_device(device)
    if (run_dir is None) == (recipe is None):
        raise ReproError("give a RUN_DIR or --recipe NAME (one of them)")
    if recipe is not None:
        (name,) = expand_patterns([recipe])
        run = _completed_run(out, name, seed)
        if run is None:
            err_console.print(f"no completed run of {name} (seed {seed}) in {out}; training one")
            run = execute(load_recipe(name), seed, out, device, [])
    else:
        run = Run.open(run_dir)
    trainer, path, warnings = restore_trainer(run, checkpoint, device)
    for w in warnings:
        err_console.print(f"[yellow]warning:[/] {w}; using an older checkpoint")
    spec = next((m.params for m in trainer.recipe.eval.metrics if m.name == "value-surface"), None)
    if spec is None or trainer.real.shape != (2,):
        raise ReproError(f"{run.path}: recipe {trainer.recipe.name!r} is not a 2-D recipe with a value surface; use a gaussian-* or 8gaussians-* run")
    res = resolution or spec["resolution"]
    surf = compute_surface(trainer, spec["lo"], spec["hi"], res)
    paths = plot_surface(surf, f"{trainer.recipe.name} (seed {trainer.seed}), iteration {trainer.iteration}", run.figure_dir / f"surface-{path.stem}")
    protocol = {"grid": f"{res}x{res} over [{spec['lo']}, {spec['hi']}]^2", "weight": "p_r + p_g", "seed": trainer.seed,
                "checkpoint": f"{path.name} (iteration {trainer.iteration})", "source": "repro surface"}
    if surf.d_star is not None:
        run.log({"type": "metric", "iteration": trainer.iteration, "name": "d_dstar_distance", "value": surf.distance(), "protocol": protocol})
        console.print(f"weighted |D − D*| = {surf.distance():.5f}  ({protocol['grid']}, weight p_r+p_g, seed {trainer.seed}, {protocol['checkpoint']})")
    else:
        console.print("D* is not defined for this recipe (the generator's density is unknown): figure shows D and G's gradient field")
    for p in paths:
        console.print(f"wrote {p}")
