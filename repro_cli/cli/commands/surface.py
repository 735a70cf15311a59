"""`repro surface`: D's value surface next to the optimal D*, and their distance."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from repro_cli.cli.app import app, console, err_console, handles_errors, resolve_device
from repro_cli.config.recipes import expand_patterns, load_recipe
from repro_cli.config.schema import Recipe
from repro_cli.errors import ReproError, RunDirError
from repro_cli.runs.checkpoint import restore_trainer
from repro_cli.runs.execute import execute
from repro_cli.runs.rundir import RECIPE_FILE, Run, find_runs
from repro_cli.surface import compute_surface


def _completed_run(out: Path, recipe: Recipe, seed: int) -> Run | None:
    """The newest completed run of exactly this recipe (same config hash: a run trained with other
    --set values or an older version of the recipe is a different experiment) and seed."""
    if not (out / recipe.name).exists():
        return None
    runs = [r for r in find_runs(out / recipe.name)
            if r.info.get("status") == "completed" and r.info.get("seed") == seed and r.info.get("config_hash") == recipe.config_hash()]
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
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Draw D's value surface over a grid with the real and fake points, next to D* = p_r/(p_r+p_g) when
    both densities are known, write PNG and PDF into the run's figures/, and record the weighted
    |D − D*| distance in the run's metrics log."""
    from repro_cli.plots.surface import plot_surface  # matplotlib: imported by the command that draws, not by every `repro` start

    device = resolve_device(device)
    if (run_dir is None) == (recipe is None):
        raise ReproError("give a RUN_DIR or --recipe NAME (one of them)")
    if recipe is not None:
        names = expand_patterns([recipe])
        if len(names) != 1:
            raise ReproError(f"--recipe {recipe!r} matches {len(names)} recipes ({', '.join(names)}); give one name")
        wanted = load_recipe(names[0])
        run = _completed_run(out, wanted, seed)
        if run is None:
            err_console.print(f"no completed run of {escape(wanted.name)} (seed {seed}, config {wanted.config_hash()}) in {escape(str(out))}; training one")
            run = execute(wanted, seed, out, device, [])
    else:
        run = Run.open(run_dir)
    trainer, path, warnings = restore_trainer(run, checkpoint, device)
    if trainer.recipe.config_hash() != run.info.get("config_hash"):
        raise RunDirError(f"{run.path}: its {RECIPE_FILE} (config {trainer.recipe.config_hash()}) does not match the config it was trained "
                          f"with ({run.info.get('config_hash')}); the file was edited or written by another repro version")
    for w in warnings:
        err_console.print(f"[yellow]warning:[/] {escape(w)}; using an older checkpoint")
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
        console.print(f"weighted |D − D*| = {surf.distance():.5f}  ({protocol['grid']}, weight p_r+p_g, seed {trainer.seed}, {protocol['checkpoint']})",
                      markup=False, highlight=False, soft_wrap=True)
    else:
        console.print("D* is not defined for this recipe (the generator's density is unknown): figure shows D and G's gradient field")
    for p in paths:
        console.print(f"wrote {p}", markup=False, highlight=False, soft_wrap=True)
