import json
import stat

from repro_cli.runs.atomic import append_line, atomic_write_json, read_jsonl


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    atomic_write_json(tmp_path / "a.json", {"x": 1})
    atomic_write_json(tmp_path / "a.json", {"x": 2})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_atomic_write_gives_a_plain_new_files_mode(tmp_path):
    # Readable by whoever could read a file written with open() (a cluster group), not mkstemp's 0600.
    atomic_write_json(tmp_path / "run.json", {"x": 1})
    (tmp_path / "plain.txt").write_text("x")
    assert stat.S_IMODE((tmp_path / "run.json").stat().st_mode) == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)


def test_a_torn_last_line_is_ignored(tmp_path):
    log = tmp_path / "metrics.jsonl"
    append_line(log, json.dumps({"i": 1}))
    append_line(log, json.dumps({"i": 2}))
    with log.open("a") as fh:
        fh.write('{"i": 3, "los')  # a crash mid-write
    assert read_jsonl(log) == [{"i": 1}, {"i": 2}]
    assert read_jsonl(tmp_path / "absent.jsonl") == []
