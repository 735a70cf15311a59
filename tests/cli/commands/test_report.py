import json


def test_report_command_prints_tables_and_writes_files(cli, tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", '[[reported]]\nrecipe = "a"\nmetric = "dist"\nvalue = 1.5\ncite = "Fig. 2"\n', "")
    for seed in range(2):
        make_run(tmp_path / "results", "a", seed, {"dist": 1.0 + seed})
    result = cli("report", "--papers", str(papers), "--out", "rep", "--no-figures")
    assert result.exit_code == 0, result.output
    assert "Measured vs reported" in result.output and "1.5 ± 0.7071" in result.output and "+0" in result.output
    assert (tmp_path / "rep" / "index.md").exists() and (tmp_path / "rep" / "comparison.csv").exists()
    assert not list((tmp_path / "rep").glob("*.png"))


def test_no_runs_is_one_line_saying_what_to_do(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli("report", "empty")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no completed runs under empty" in lines[0] and "repro train" in lines[0]
    assert "Traceback" not in result.output


def test_missing_folder_and_unfinished_runs(cli, tmp_path):
    result = cli("report", "nowhere")
    assert result.exit_code == 2 and "nowhere does not exist" in result.output
    run = tmp_path / "results" / "a" / "r1"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"id": "r1", "recipe": "a", "seed": 0, "status": "running"}))
    result = cli("report")
    assert result.exit_code == 2 and "1 run(s) skipped as not completed" in result.output


def test_bad_paper_file_is_one_line(cli, tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", '[[reported]]\nrecipe = "a"\nmetric = "dist"\nvalue = 1.5\n', "")
    make_run(tmp_path / "results", "a", 0, {"dist": 1.0})
    result = cli("report", "--papers", str(papers))
    assert result.exit_code == 2 and "needs `cite`" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_recipe_filter_that_matches_no_run_names_the_recipes_there(cli, tmp_path, make_run):
    make_run(tmp_path / "results", "gaussian-0gp", 0, {"dist": 1.0})
    result = cli("report", "-r", "mnist-*")
    assert result.exit_code == 2 and "no completed run matches --recipes mnist-*" in result.output and "gaussian-0gp" in result.output


def test_format_chooses_the_files_and_rejects_unknown_formats(cli, tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", '[[reported]]\nrecipe = "a"\nmetric = "dist"\nvalue = 1.5\ncite = "Fig. 2"\n', "")
    make_run(tmp_path / "results", "a", 0, {"dist": 1.0})
    result = cli("report", "--papers", str(papers), "--out", "rep", "--no-figures", "--format", "latex", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == ["claims.csv", "comparison.csv", "measured.csv", "runs.csv", "tables.tex", "todo.csv"]
    assert "Measured vs reported" not in result.output  # no terminal table unless 'table' is asked for
    assert "\\begin{tabular}" in (tmp_path / "rep" / "tables.tex").read_text()
    result = cli("report", "--papers", str(papers), "--format", "pdf")
    assert result.exit_code == 2 and result.output.strip() == "error: --format 'pdf' is not a report format; choose from table, csv, md, html, latex"


def test_index_lists_the_runs_not_used_with_their_reason(cli, tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", "", "")
    make_run(tmp_path / "results", "a", 0, {"dist": 1.0})
    make_run(tmp_path / "results", "a", 1, {"dist": 2.0}, status="preempted")
    result = cli("report", "--papers", str(papers), "--out", "rep", "--no-figures", "-f", "md")
    assert result.exit_code == 0, result.output
    index = (tmp_path / "rep" / "index.md").read_text()
    assert "## Runs not used" in index and "run-a-s1-cfg0: status preempted |" in index
