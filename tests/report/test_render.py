"""The report's LaTeX output: a standalone document whose cells are escaped (no TeX here to compile it,
so the text is checked)."""

import pandas as pd

from repro_cli.report.render import _latex_escape, write_latex


def test_latex_escape_is_one_pass():
    assert _latex_escape(r"a_b & 50% {x} \ ~^#$") == r"a\_b \& 50\% \{x\} \textbackslash{} \textasciitilde{}\textasciicircum{}\#\$"


def test_latex_document_has_one_escaped_tabular_per_table(tmp_path):
    claims = pd.DataFrame({"claim": ["gp_closer"], "evidence": ["0.07 ± 0.01 (n=3) < 0.19; 50% of σ"], "to do": [None]})
    path = write_latex(tmp_path / "tables.tex", "Report", [("Claims", claims), ("Runs still needed", claims.iloc[:0])])
    text = path.read_text()
    assert text.startswith("\\documentclass{article}") and text.rstrip().endswith("\\end{document}")
    assert text.count("\\begin{tabular}{lll}") == 1 and "\\emph{none}" in text  # the empty table says so
    assert "claim & evidence & to do \\\\" in text
    assert "gp\\_closer & 0.07 ± 0.01 (n=3) < 0.19; 50\\% of σ &  \\\\" in text  # missing cell left empty, not 'nan'
    assert "\\DeclareUnicodeCharacter{00B1}{\\ensuremath{\\pm}}" in text and "\\DeclareUnicodeCharacter{03C3}{\\ensuremath{\\sigma}}" in text
