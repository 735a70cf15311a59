"""The recipe: one frozen object, validated once when it is loaded, then trusted by the engine.

Sections:
  [recipe]         name, description, paper, figure, notes
  [data]           real-data source: name + params (registry DATA)
  [fake_data]      fixed fake samples instead of a generator (optimal-D study), or
  [generator]      G: name + params (registry MODELS)
  [discriminator]  D: name + params (registry MODELS)
  [loss]           name + params (registry LOSSES)
  [penalty]        the centred gradient penalty (preset and/or explicit fields)
  [normalization]  D's weight normalisation: name + params (registry NORMALIZATIONS)
  [optim]          optimiser and learning rates for both players, D steps per G step
  [train]          length, batch size, logging/checkpoint cadence
  [eval]           which metrics, how often (each a name + params, registry METRICS)
  [speed]          CUDA speed switches: bf16 autocast, TF32, channels_last, torch.compile
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from repro_cli.config.validate import Range, bind_signature, build_dataclass
from repro_cli.errors import ConfigError

PositiveInt = Annotated[int, Range(ge=1)]
NonNegInt = Annotated[int, Range(ge=0)]


@dataclasses.dataclass(frozen=True)
class Meta:
    name: str
    description: str
    paper: str
    figure: str = ""
    notes: str = ""
    extends: str = ""


@dataclasses.dataclass(frozen=True)
class Component:
    """A registered piece and its validated parameters (defaults filled in)."""

    name: str
    params: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class PenaltySpec:
    """λ·E[(‖∇ₓ f(x̂)‖₂ − center)²] with x̂ from `points`; f is D's probability or its logit.

    The factor is λ with no ½ (the authors' and GAN_stability's convention): R1 with γ equals
    weight = γ/2, gradient_of = "logit", points = "real".
    """

    preset: str = "none"
    weight: Annotated[float, Range(ge=0)] = 0.0
    center: Annotated[float, Range(ge=0)] = 0.0
    points: str = "interpolates"
    gradient_of: Literal["probability", "logit"] = "probability"


@dataclasses.dataclass(frozen=True)
class OptimSpec:
    name: str = "adam"
    lr_g: Annotated[float, Range(gt=0, le=10)] = 1e-4
    lr_d: Annotated[float, Range(gt=0, le=10)] = 1e-4
    betas: tuple[Annotated[float, Range(ge=0, lt=1)], Annotated[float, Range(ge=0, lt=1)]] = (0.5, 0.999)
    n_dis: Annotated[int, Range(ge=1, le=100)] = 1


@dataclasses.dataclass(frozen=True)
class TrainSpec:
    """`iterations` counts outer steps: n_dis D updates and (with a generator) one G update.
    `epochs` instead derives it from the dataset size: one epoch = one pass of D over the data."""

    iterations: Annotated[int, Range(ge=1, le=100_000_000)] | None = None
    epochs: Annotated[float, Range(gt=0, le=100_000)] | None = None
    batch_size: Annotated[int, Range(ge=1, le=65_536)] = 64
    log_every: PositiveInt = 100
    checkpoint_every: NonNegInt = 0
    keep_checkpoints: PositiveInt = 3
    sample_every: NonNegInt = 0
    # ckpt-best.pt: the checkpoint at the evaluation where this metric record (e.g. "fid",
    # "modes_covered") was lowest (best_mode "min") or highest ("max"); unset = no best checkpoint.
    best_metric: str | None = None
    best_mode: Literal["min", "max"] = "min"


@dataclasses.dataclass(frozen=True)
class EvalSpec:
    every: NonNegInt = 0
    metrics: tuple[Component, ...] = ()


@dataclasses.dataclass(frozen=True)
class SpeedSpec:
    """CUDA speed switches (engine/accel.py), all off by default; ignored with a note elsewhere.

    They are part of the recipe and of its config hash when any is on: bf16 and TF32 change the
    numbers a GPU computes (compile and channels_last may reorder float sums), so a run's record
    must say which were used, and resuming a run with different switches is a recipe change that
    `--resume` refuses unless `--force` (then recorded), like any other. All off adds nothing to
    the resolved recipe, so recipes without a [speed] table keep their hashes."""

    bf16: bool = False
    tf32: bool = False
    channels_last: bool = False
    compile: bool = False

    @property
    def requested(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name)]


@dataclasses.dataclass(frozen=True)
class Recipe:
    meta: Meta
    data: Component
    discriminator: Component
    loss: Component
    penalty: PenaltySpec
    normalization: Component
    optim: OptimSpec
    train: TrainSpec
    eval: EvalSpec
    generator: Component | None = None
    fake_data: Component | None = None
    speed: SpeedSpec = SpeedSpec()

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def trains_generator(self) -> bool:
        return self.generator is not None

    def to_dict(self) -> dict[str, Any]:
        """The resolved recipe as plain TOML-able data (what `recipes show` prints and runs save)."""
        out: dict[str, Any] = {"recipe": _plain(self.meta)}
        for section in ("data", "fake_data", "generator", "discriminator", "loss", "normalization"):
            comp = getattr(self, section)
            if comp is not None:
                out[section] = {"name": comp.name, **_plain(comp.params)}
        out["penalty"] = _plain(self.penalty)
        out["optim"] = _plain(self.optim)
        out["train"] = _plain(self.train)
        out["eval"] = {"every": self.eval.every, "metrics": [{"name": m.name, **_plain(m.params)} for m in self.eval.metrics]}
        if self.speed.requested:
            out["speed"] = _plain(self.speed)
        return out

    def config_hash(self) -> str:
        """Hash of everything that changes the training trajectory (not the description text)."""
        body = self.to_dict()
        body.pop("recipe")
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items() if v is not None}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


SECTIONS = ("recipe", "data", "fake_data", "generator", "discriminator", "loss", "penalty", "normalization", "optim", "train", "eval", "speed")

# Arguments the engine passes to factories itself; a recipe may not set them.
INJECTED = {
    "data": ("ctx",),
    "fake_data": ("ctx",),
    "generator": ("out_shape",),
    "discriminator": ("in_shape",),
}


def _component(table: Any, key: str, registry, injected: tuple[str, ...] = ()) -> Component:
    if not isinstance(table, Mapping) or "name" not in table:
        raise ConfigError(f"{key}: needs a table with a 'name' (one of: {', '.join(registry.names())})")
    name = table["name"]
    if not isinstance(name, str):
        raise ConfigError(f"{key}.name: expected a string, got {name!r}")
    factory = registry.get(name, where=f"{key}.name")
    params = {k: v for k, v in table.items() if k != "name"}
    return Component(name, bind_signature(factory, params, key, injected))


def resolve(raw: Mapping[str, Any]) -> Recipe:
    """Validate a merged recipe table (after `extends` and overrides) into a `Recipe`."""
    from repro_cli import registries as R

    for section in raw:
        if section not in SECTIONS:
            from repro_cli.errors import close_matches

            raise ConfigError(f"{section}: unknown section{close_matches(section, SECTIONS)}; known: {', '.join(SECTIONS)}")
    for required in ("recipe", "data", "discriminator", "train"):
        if required not in raw:
            raise ConfigError(f"{required}: required section is missing")
    has_g, has_fake = "generator" in raw, "fake_data" in raw
    if has_g == has_fake:
        raise ConfigError("generator/fake_data: a recipe needs exactly one of [generator] (a GAN) or [fake_data] (D only)")

    penalty = _resolve_penalty(raw.get("penalty", {}))
    R.PENALTY_POINTS.get(penalty.points, where="penalty.points")
    optim = build_dataclass(OptimSpec, raw.get("optim", {}), "optim")
    R.OPTIMIZERS.get(optim.name, where="optim.name")
    train = build_dataclass(TrainSpec, raw["train"], "train")
    if (train.iterations is None) == (train.epochs is None):
        raise ConfigError("train: set exactly one of train.iterations or train.epochs")
    eval_raw = raw.get("eval", {})
    if not isinstance(eval_raw, Mapping):
        raise ConfigError(f"eval: expected a table, got {eval_raw!r}")
    metric_tables = eval_raw.get("metrics", [])
    if not isinstance(metric_tables, list):
        raise ConfigError("eval.metrics: expected a list of tables like {name = \"...\"}")
    evaluation = EvalSpec(
        every=build_dataclass(EvalSpec, {k: v for k, v in eval_raw.items() if k != "metrics"}, "eval").every,
        metrics=tuple(_component(t, f"eval.metrics[{i}]", R.METRICS) for i, t in enumerate(metric_tables)),
    )
    loss = _component(raw.get("loss", {"name": "ns-gan"}), "loss", R.LOSSES)
    recipe = Recipe(
        meta=build_dataclass(Meta, raw["recipe"], "recipe"),
        data=_component(raw["data"], "data", R.DATA, INJECTED["data"]),
        fake_data=_component(raw["fake_data"], "fake_data", R.DATA, INJECTED["fake_data"]) if has_fake else None,
        generator=_component(raw["generator"], "generator", R.MODELS, INJECTED["generator"]) if has_g else None,
        discriminator=_component(raw["discriminator"], "discriminator", R.MODELS, INJECTED["discriminator"]),
        loss=loss,
        penalty=penalty,
        normalization=_component(raw.get("normalization", {"name": "none"}), "normalization", R.NORMALIZATIONS),
        optim=optim,
        train=train,
        eval=evaluation,
        speed=build_dataclass(SpeedSpec, raw.get("speed", {}), "speed"),
    )
    _check_consistency(recipe)
    return recipe


def _resolve_penalty(table: Any) -> PenaltySpec:
    """A preset supplies defaults; keys written next to it override them. Without a preset the
    explicit fields define the penalty; an explicit preset 'none' must not carry a weight."""
    from repro_cli import registries as R

    if not isinstance(table, Mapping):
        raise ConfigError(f"penalty: expected a table, got {table!r}")
    preset_name = table.get("preset", "none")
    if not isinstance(preset_name, str):
        raise ConfigError(f"penalty.preset: expected a string, got {preset_name!r}")
    preset = R.PENALTY_PRESETS.get(preset_name, where="penalty.preset")
    spec = build_dataclass(PenaltySpec, {**preset, **table}, "penalty")
    if table.get("preset") == "none" and spec.weight > 0:
        # 'none' means no penalty; a weight next to it (often inherited) would silently turn one on
        others = ", ".join(n for n in R.PENALTY_PRESETS.names() if n != "none")
        raise ConfigError(
            f"penalty.weight: preset 'none' means no penalty, but weight = {spec.weight:g}; "
            f"set penalty.weight=0, or choose a penalty with penalty.preset (one of: {others})"
        )
    return spec


def _check_consistency(recipe: Recipe) -> None:
    """Cross-section rules that no single section can check."""
    from repro_cli import registries as R

    loss = R.LOSSES.get(recipe.loss.name)(**recipe.loss.params)
    # Where the gradient is taken only matters when there is a penalty (weight 0 computes nothing).
    if recipe.penalty.weight > 0 and recipe.penalty.gradient_of == "probability" and not getattr(loss, "has_probability", False):
        raise ConfigError(
            f"penalty.gradient_of: 'probability' needs a loss with a sigmoid output, but loss "
            f"{recipe.loss.name!r} has none; use gradient_of = \"logit\""
        )
