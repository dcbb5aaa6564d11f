import json

from zoo import cli


def test_list_and_pattern(capsys):
    import zoo

    assert cli.main(["list", "m*"]) == 0
    names = capsys.readouterr().out.split()
    assert "mlp" in names and all(n.startswith("m") for n in names)
    assert names == zoo.list_models("m*")


def test_info_prints_json(capsys):
    assert cli.main(["info", "perceptron"]) == 0
    assert json.loads(capsys.readouterr().out)["family"] == "perceptron"


def test_unknown_model_is_a_clear_error(capsys):
    assert cli.main(["info", "mlpp"]) == 2
    assert "did you mean mlp" in capsys.readouterr().err


def test_train_prints_test_metrics(capsys):
    assert cli.main(["train", "logistic_regression", "--epochs", "2"]) == 0
    assert "test accuracy=" in capsys.readouterr().out


def test_reproduce_writes_table_and_report(tmp_path, capsys):
    assert cli.main(["reproduce", "--only", "perceptron", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| perceptron" in out and "pass" in out
    report = (tmp_path / "report.md").read_text()
    assert "| `perceptron` |" in report and "## Environment" in report and "at commit " in report
    assert "![perceptron](perceptron_curves.png)" in report
    assert (tmp_path / "perceptron_curves.png").read_bytes()[:4] == b"\x89PNG"
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["results"][0]["passed"] is True


def test_reproduce_unknown_pattern(capsys):
    assert cli.main(["reproduce", "--only", "zzz*"]) == 2
    assert "no reproduce entry matches" in capsys.readouterr().err
