from repro_cli.errors import ConfigError, DataError, ReproError, RunDirError, close_matches


def test_close_matches_suggests_similar_names():
    assert close_matches("gausian-0gp", ["gaussian-0gp", "gaussian-nogp", "8gaussians-0gp"]).startswith(" (did you mean: gaussian-0gp")


def test_close_matches_falls_back_to_substrings():
    assert close_matches("wgan", ["8gaussians-wgan-gp", "x"]) == " (did you mean: 8gaussians-wgan-gp?)"


def test_close_matches_is_empty_when_nothing_is_close():
    assert close_matches("zzz", ["gaussian-0gp"]) == ""


def test_user_errors_share_one_base_with_a_non_zero_exit_code():
    for cls in (ConfigError, DataError, RunDirError):
        assert issubclass(cls, ReproError)
        assert cls.exit_code != 0
