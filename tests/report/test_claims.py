import pytest

from repro_cli.errors import ConfigError
from repro_cli.report.claims import NOT_ENOUGH, NOT_REPRODUCED, REFERENCE_MISSING, REPRODUCED, evaluate_claims, load_claims
from repro_cli.report.measured import aggregate, load_runs, per_run
from repro_cli.report.references import load_references

CLAIMS = '''
[[claim]]
id = "a-lower"
source = "paper"
cite = "Fig. 1"
text = "a is closer than b"
metric = "dist"
[[claim.check]]
rule = "lower"
recipe = "a"
than = ["b"]

[[claim]]
id = "b-lower"
source = "paper"
cite = "Fig. 1"
text = "b is closer than a"
metric = "dist"
[[claim.check]]
rule = "lower"
recipe = "b"
than = ["a"]

[[claim]]
id = "needs-c"
source = "paper"
cite = "Fig. 2"
text = "c is closer than a"
metric = "dist"
[[claim.check]]
rule = "lower"
recipe = "c"
than = ["a"]

[[claim]]
id = "similar-and-bounded"
source = "paper"
cite = "Fig. 3"
text = "a and b are within 40%, and both at least 1"
metric = "dist"
[[claim.check]]
rule = "similar"
recipe = "a"
to = ["b"]
tolerance = 0.4
[[claim.check]]
rule = "at_least"
recipes = ["a", "b"]
bound = 1.0

[[claim]]
id = "matches-paper"
source = "paper"
cite = "Table 1"
text = "a matches the paper"
metric = "dist"
[[claim.check]]
rule = "matches_reported"
recipe = "a"
tolerance = 0.1

[[claim]]
id = "matches-missing"
source = "paper"
cite = "Table 1"
text = "b matches the paper"
metric = "dist"
[[claim.check]]
rule = "matches_reported"
recipe = "b"
tolerance = 0.1

[[claim]]
id = "smoother"
source = "paper"
cite = "Fig. 5"
text = "a's loss curve is smoother than b's"
metric = "d_loss"
statistic = "std"
min_seeds = 2
[[claim.check]]
rule = "lower"
recipe = "a"
than = ["b"]
'''
REPORTED = '''
[[reported]]
recipe = "a"
metric = "dist"
value = 2.1
cite = "Table 1"
[[reported]]
recipe = "b"
metric = "dist"
missing = "Table 1, row b"
'''


@pytest.fixture
def verdicts(tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", REPORTED, CLAIMS)
    for seed, (a, b) in enumerate([(2.0, 2.5), (2.2, 3.0), (2.1, 2.8)]):
        make_run(tmp_path / "runs", "a", seed, {"dist": a}, d_losses=[1.0, 1.1, 1.0])
        make_run(tmp_path / "runs", "b", seed, {"dist": b}, d_losses=[0.0, 3.0, 0.0])
    make_run(tmp_path / "runs", "c", 0, {"dist": 0.1})
    records = load_runs([tmp_path / "runs"]).records
    claims = load_claims(papers / "claims.toml")
    stats = {s: aggregate(per_run(records, s, kind=None)) for s in ("final", "std")}
    import pandas as pd

    return {v.claim.id: v for v in evaluate_claims(claims, pd.concat(stats.values()), load_references(papers))}


def test_each_verdict(verdicts):
    assert verdicts["a-lower"].verdict == REPRODUCED
    assert verdicts["b-lower"].verdict == NOT_REPRODUCED
    assert verdicts["needs-c"].verdict == NOT_ENOUGH
    assert verdicts["matches-paper"].verdict == REPRODUCED  # |2.1 - 2.1| / 2.1 = 0
    assert verdicts["matches-missing"].verdict == REFERENCE_MISSING
    assert verdicts["similar-and-bounded"].verdict == REPRODUCED  # gap 0.67/2.77 = 24% <= 40%
    assert verdicts["smoother"].verdict == REPRODUCED


def test_evidence_gives_means_spread_seeds_and_what_to_run(verdicts):
    assert verdicts["a-lower"].evidence.startswith("a 2.1 ± 0.1 (n=3) < b 2.767 ± 0.2517 (n=3)")
    assert "final checkpoint; iteration 100" in verdicts["a-lower"].evidence
    assert "not <" in verdicts["b-lower"].evidence
    assert verdicts["needs-c"].evidence == "c: 1 run(s) (need 3 seeds each)"
    assert verdicts["needs-c"].todo == "repro train -r c --seeds 0-2"
    assert "Table 1, row b" in verdicts["matches-missing"].evidence
    assert "relative gap 24.1%" in verdicts["similar-and-bounded"].evidence
    assert "std over training" in verdicts["smoother"].evidence


def test_similar_fails_outside_the_tolerance(tmp_path, make_run, write_papers):
    claims = CLAIMS.split("[[claim]]\nid = \"matches-paper\"")[0].replace("tolerance = 0.4", "tolerance = 0.2")
    papers = write_papers(tmp_path / "papers", REPORTED, claims)
    for seed, (a, b) in enumerate([(2.0, 2.5), (2.2, 3.0), (2.1, 2.8)]):
        make_run(tmp_path / "runs", "a", seed, {"dist": a})
        make_run(tmp_path / "runs", "b", seed, {"dist": b})
    agg = aggregate(per_run(load_runs([tmp_path / "runs"]).records))
    verdicts = {v.claim.id: v for v in evaluate_claims(load_claims(papers / "claims.toml"), agg, [])}
    assert verdicts["similar-and-bounded"].verdict == NOT_REPRODUCED


@pytest.mark.parametrize("body, message", [
    ('[[claim]]\nid="x"\nsource="p"\ncite="c"\ntext="t"\nmetric="m"\n[[claim.check]]\nrule="lowr"\nrecipe="a"\nthan=["b"]\n', "did you mean: lower"),
    ('[[claim]]\nid="x"\nsource="p"\ncite="c"\ntext="t"\nmetric="m"\n[[claim.check]]\nrule="lower"\nrecipe="a"\n', "missing than"),
    ('[[claim]]\nid="x"\nsource="p"\ncite="c"\ntext="t"\nmetric="m"\n', "at least one"),
    ('[[claim]]\nid="x"\nsource="p"\ncite="c"\ntext="t"\nmetric="m"\n[[claim.check]]\nrule="at_most"\nrecipes=["a"]\nbound="9"\n', "bound must be a number"),
    ('[[claim]]\nid="x"\nsource="p"\ncite="c"\ntext="t"\nmetric="m"\nstatistic="median"\n[[claim.check]]\nrule="lower"\nrecipe="a"\nthan=["b"]\n', "statistic"),
])
def test_bad_claims_are_refused(tmp_path, body, message):
    (tmp_path / "claims.toml").write_text(body)
    with pytest.raises(ConfigError, match=message):
        load_claims(tmp_path / "claims.toml")


def test_shipped_claims_load_and_cover_the_seed_statements():
    ids = {c.id for c in load_claims()}
    assert {"surface-0gp-closer-than-nogp-and-1gp", "mnist-nogp-1gp-collapse-0gp-does-not", "mnist-ttur-half-the-epochs",
            "cifar-0gp-vs-0gp-sample-trivial", "bssn-better-sample-quality"} <= ids
