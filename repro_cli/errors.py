"""User-facing errors.

Anything a user can cause (unknown recipe, bad value, missing data, not a run directory) raises a
`ReproError`. The CLI prints its message as one line and exits non-zero without a traceback, so every
message must say what was wrong *and* what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ReproError(Exception):
    """An error caused by the user's input; its message is shown as-is, on one line."""

    exit_code = 2


class ConfigError(ReproError):
    """A recipe or override has an unknown key or a value of the wrong type or range."""


class DataError(ReproError):
    """A dataset is missing, incomplete or corrupt."""


class RunDirError(ReproError):
    """A path given as a run directory is not one (or is unusable)."""


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> str:
    """A ' (did you mean: a, b?)' suffix for error messages, or '' when nothing is close."""
    candidates = list(candidates)
    matches = difflib.get_close_matches(word, candidates, n=n, cutoff=0.5)
    if not matches:
        # substring hits catch e.g. 'gp' -> every '*-gp' name, which difflib scores low
        matches = [c for c in candidates if word and word in c][:n]
    return f" (did you mean: {', '.join(matches)}?)" if matches else ""
