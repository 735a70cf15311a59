def test_check_reports_cached_classifier(cli, mnist_classifier, mnist_root):
    result = cli("classifier", "--data-dir", str(mnist_root), "--check")
    assert result.exit_code == 0, result.output
    assert mnist_classifier.id in result.output and f"{mnist_classifier.test_accuracy:.2%}" in result.output


def test_require_fails_below_threshold(cli, mnist_classifier, mnist_root):
    result = cli("classifier", "--data-dir", str(mnist_root), "--check", "--require", "0.999")
    assert result.exit_code == 2 and "below the required 99.90%" in result.output


def test_missing_data_is_one_line(cli, tmp_path):
    result = cli("classifier", "--data-dir", str(tmp_path / "empty"), "--offline")
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "MNIST not found" in result.output
