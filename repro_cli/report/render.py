"""The report's tables as Rich (terminal), CSV, Markdown (index.md, readable on GitHub) and HTML."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
from rich.table import Table

from repro_cli.runs.atomic import atomic_write_text

# The report files `repro report --format` can write (besides the terminal table).
FILE_FORMATS = ("csv", "md", "html", "latex")

VERDICT_STYLE = {"reproduced": "green", "not reproduced": "red", "not enough runs": "yellow", "reference missing": "magenta"}


def rich_table(df: pd.DataFrame, title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(str(col), overflow="fold")
    for _, row in df.iterrows():
        cells = ["" if pd.isna(v) else str(v) for v in row]
        style = VERDICT_STYLE.get(row.get("verdict", ""), None)
        table.add_row(*cells, style=style)
    return table


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub pipe table (pandas' to_markdown needs tabulate, which repro does not depend on)."""
    def cell(v) -> str:
        return "" if pd.isna(v) else str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    atomic_write_text(path, df.to_csv(index=False))
    return path


def write_index(path: Path, title: str, preamble: list[str], sections: list[tuple[str, pd.DataFrame | str]], figures: list[Path]) -> Path:
    """index.md: the preamble, each table (or text) under its heading, then every figure."""
    out = [f"# {title}", "", *preamble, ""]
    for heading, body in sections:
        out += [f"## {heading}", "", body if isinstance(body, str) else (markdown_table(body) if len(body) else "_none_"), ""]
    if figures:
        out += ["## Figures", ""]
        out += [f"![{f.stem}]({f.name})" for f in figures]
        out.append("")
    atomic_write_text(path, "\n".join(out))
    return path


def write_html(path: Path, title: str, preamble: list[str], sections: list[tuple[str, pd.DataFrame | str]], figures: list[Path]) -> Path:
    """index.html: the same content as index.md for a browser (pandas renders the tables)."""
    body = [f"<h1>{html.escape(title)}</h1>", *(f"<p>{html.escape(p)}</p>" for p in preamble)]
    for heading, content in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        if isinstance(content, str):
            body.append(f"<p>{html.escape(content)}</p>")
        else:
            body.append(content.to_html(index=False, na_rep="", border=1) if len(content) else "<p><em>none</em></p>")
    if figures:
        body.append("<h2>Figures</h2>")
        body += [f'<p><img src="{html.escape(f.name)}" alt="{html.escape(f.stem)}"></p>' for f in figures]
    page = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em} table{border-collapse:collapse;font-size:small} td,th{padding:3px}</style>"
            "</head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    atomic_write_text(path, page)
    return path


def write_latex(path: Path, title: str, sections: list[tuple[str, pd.DataFrame | str]]) -> Path:
    """tables.tex: a standalone LaTeX document (booktabs) with each table, to compile or to paste from.
    Cell text is escaped, since protocols and evidence contain _, %, & and ±."""
    doc = ["\\documentclass{article}", "\\usepackage[utf8]{inputenc}", "\\usepackage[T1]{fontenc}",
           "\\usepackage{booktabs}", "\\usepackage{textcomp}", "\\usepackage[margin=1cm,landscape]{geometry}",
           *(f"\\DeclareUnicodeCharacter{{{code}}}{{\\ensuremath{{{math}}}}}" for code, math in _UNICODE_MATH.items()),
           "\\begin{document}", f"\\section*{{{_latex_escape(title)}}}"]
    for heading, content in sections:
        doc.append(f"\\subsection*{{{_latex_escape(heading)}}}")
        if isinstance(content, str) or not len(content):
            doc.append(_latex_escape(content) if isinstance(content, str) else "\\emph{none}")
            continue
        table = content.astype(object).where(content.notna(), "")
        styler = table.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
        doc.append("{\\scriptsize\n" + styler.to_latex(hrules=True) + "}")
    doc.append("\\end{document}")
    atomic_write_text(path, "\n".join(doc) + "\n")
    return path


# Characters our protocols and evidence use that pdfLaTeX's utf8 input does not know by itself.
_UNICODE_MATH = {"00B1": "\\pm", "2212": "-", "00D7": "\\times", "2264": "\\leq", "2265": "\\geq", "2192": "\\to",
                 "2016": "\\|", "2207": "\\nabla", "03B2": "\\beta", "03BB": "\\lambda", "03C3": "\\sigma", "03B3": "\\gamma"}
_LATEX_SPECIAL = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_",
                  "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}"}


def _latex_escape(text: str) -> str:
    """Headings and free text; one pass, so a replacement is never escaped again."""
    return re.sub(r"[\\&%$#_{}~^]", lambda m: _LATEX_SPECIAL[m.group()], text)
