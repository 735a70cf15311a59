from repro_cli.metrics import inception_weights as W


def test_lists_where_it_looks_and_what_it_found(cli, weights_file, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv(W.WEIGHTS_ENV, str(weights_file))
    result = cli("weights")
    assert result.exit_code == 0
    rows = {line.strip()[:2]: line.strip() for line in result.output.splitlines() if line.strip()[:2] in ("1.", "2.", "3.", "4.")}
    assert rows["1."] == "1. explicit --weights: - [not set]"
    assert rows["2."].startswith(f"2. ${W.WEIGHTS_ENV}: {weights_file} [found, sha256:") and "UNOFFICIAL" in rows["2."]
    assert rows["3."].startswith("3. torch hub cache:") and rows["3."].endswith("[missing]")
    assert "disabled (offline" in rows["4."]

def test_verify_rejects_unofficial_and_truncated_files(cli, weights_file, tmp_path):
    result = cli("weights", "--verify", str(weights_file))
    assert result.exit_code != 0 and "not the official" in result.output and "loads as an Inception state dict" in result.output
    cut = tmp_path / "cut.pth"
    cut.write_bytes(weights_file.read_bytes()[:4096])
    result = cli("weights", "--verify", str(cut))
    assert result.exit_code != 0 and "truncated" in result.output and "Traceback" not in result.output


def test_inception_weights_is_the_issue_s_name_for_the_explicit_file(cli, weights_file, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(W.WEIGHTS_ENV, raising=False)
    result = cli("weights", "--inception-weights", str(weights_file))
    assert result.exit_code == 0
    first = next(line.strip() for line in result.output.splitlines() if line.strip().startswith("1."))
    assert first.startswith(f"1. explicit --weights: {weights_file} [found, sha256:")
