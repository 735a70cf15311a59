import hashlib

import pytest

from repro_cli.errors import DataError
from repro_cli.metrics import inception_weights as W


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv(W.WEIGHTS_ENV, raising=False)
    monkeypatch.delenv(W.ALLOW_UNOFFICIAL_ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path


def test_missing_weights_offline_say_how_to_get_them(clean_env):
    with pytest.raises(DataError) as err:
        W.resolve(download=False)
    message = str(err.value)
    assert "--weights" in message and W.WEIGHTS_ENV in message and W.FILENAME in message and "https://" in message


def test_explicit_path_that_does_not_exist_is_an_error_not_a_fallthrough(clean_env):
    with pytest.raises(DataError, match="no such file"):
        W.resolve(clean_env / "nope.pth", download=False)


def test_order_explicit_then_env_then_hub_cache(clean_env, weights_file, monkeypatch):
    hub = W.hub_cache_path()
    hub.parent.mkdir(parents=True)
    hub.write_bytes(weights_file.read_bytes())
    assert W.resolve(download=False, allow_unofficial=True).source == "torch hub cache"
    monkeypatch.setenv(W.WEIGHTS_ENV, str(weights_file))
    found = W.resolve(download=False, allow_unofficial=True)
    assert found.source.startswith("$") and found.path == weights_file
    assert W.resolve(hub, download=False, allow_unofficial=True).source == "explicit --weights"


def test_hash_checked_and_unofficial_marked(clean_env, weights_file):
    with pytest.raises(DataError, match="expected 6726825d"):
        W.resolve(weights_file, download=False)
    found = W.resolve(weights_file, download=False, allow_unofficial=True)
    assert found.sha256 == hashlib.sha256(weights_file.read_bytes()).hexdigest()
    assert not found.official and "UNOFFICIAL" in found.describe()


def test_truncated_file_is_a_clear_error(clean_env, weights_file):
    cut = clean_env / "cut.pth"
    cut.write_bytes(weights_file.read_bytes()[:1000])
    found = W.resolve(cut, download=False, allow_unofficial=True)
    with pytest.raises(DataError, match="truncated"):
        W.load_state_dict(found)
