"""The registries recipes compose from. Each lives here (not in its module) so that any module can
import any registry without import cycles; entries register themselves in their own modules."""

from repro_cli.registry import Registry

MODELS = Registry("model", "repro_cli.models")
# Batched forwards of models over an ensemble's stacked parameters (engine/batched.py), next to each model.
BATCHED_FORMS = Registry("batched form", "repro_cli.models")
# Closed-form loss-and-penalty gradients of a batched D (engine/closed_form.py), next to each model.
D_GRADIENT_FORMS = Registry("closed-form D gradient", "repro_cli.models")
DATA = Registry("data source", "repro_cli.data")
LOSSES = Registry("loss", "repro_cli.engine.losses")
PENALTY_POINTS = Registry("penalty point set", "repro_cli.engine.penalties")
PENALTY_PRESETS = Registry("penalty preset", "repro_cli.engine.penalties")
NORMALIZATIONS = Registry("normalisation", "repro_cli.normalizations")
OPTIMIZERS = Registry("optimiser", "repro_cli.engine.optimizers")
METRICS = Registry("metric", "repro_cli.metrics")
