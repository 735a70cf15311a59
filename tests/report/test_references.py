import pytest

from repro_cli.errors import ConfigError
from repro_cli.report.references import load_references, load_source


def write(tmp_path, body: str):
    path = tmp_path / "src.toml"
    path.write_text('[source]\nid = "src"\ntitle = "T"\n' + body)
    return path


def test_value_and_missing_entries(tmp_path):
    refs = load_source(write(tmp_path, '''
[[reported]]
recipe = "r"
metric = "fid"
value = 21.7
std = 0.21
cite = "Table 2, p. 8"
protocol = { n_fake = 5000 }

[[reported]]
recipe = "r"
metric = "inception_score"
missing = "Table 2"
'''))
    assert refs[0].value == 21.7 and refs[0].label() == "21.7 ± 0.21" and refs[0].protocol == {"n_fake": 5000}
    assert refs[1].missing and refs[1].label() == "missing" and refs[1].cite == "Table 2"


@pytest.mark.parametrize("entry, message", [
    ('value = 1.0', "needs `cite`"),
    ('value = 1.0\nmissing = "T1"\ncite = "T1"', "not both"),
    ('cite = "T1"', "either `value`"),
    ('value = "8.2"\ncite = "T1"', "finite number"),
    ('missing = "T1"\nvalu = 1', "unknown key"),
])
def test_bad_entries_are_refused_with_the_reason(tmp_path, entry, message):
    with pytest.raises(ConfigError, match=message):
        load_source(write(tmp_path, f'[[reported]]\nrecipe = "r"\nmetric = "m"\n{entry}\n'))


def test_shipped_sources_load_and_every_value_is_cited():
    refs = load_references()
    assert {r.source.id for r in refs} >= {"thanh-tung-2019", "lin-2021", "miyato-2018", "peers"}
    assert all(r.cite for r in refs)
    # The notes have no BSSN or 0-GP table value: all of them must stay missing until transcribed.
    assert all(r.missing for r in refs if r.source.id in ("lin-2021", "thanh-tung-2019"))
    sngan = {(r.recipe, r.metric): r.value for r in refs if r.source.id == "miyato-2018" and not r.missing}
    assert sngan == {("cifar-resnet-sn", "inception_score"): 8.22, ("cifar-resnet-sn", "fid"): 21.7,
                     ("stl10-resnet-sn", "inception_score"): 9.10, ("stl10-resnet-sn", "fid"): 40.1}
