import json
import os
import subprocess
import sys

from tests.helpers import cli_in_process, project

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "builder", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_check_json_valid_invalid_unreadable(tmp_path, capfd):
    good = os.path.join(ROOT, "templates", "mnist_convnet.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(project([("c1", "Conv2D", {"filters": 8, "kernel_size": 3})])))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    # the two model checks in this process (no TensorFlow import each); the unreadable
    # file through a real ``python -m builder`` (test_check_text_output checks a model so)
    good_done = cli_in_process(capfd, "check", good, "--json", cwd=ROOT)
    bad_done = cli_in_process(capfd, "check", bad, "--json", cwd=ROOT)
    good_report, bad_report = json.loads(good_done.stdout), json.loads(bad_done.stdout)
    good_rc, bad_rc = good_done.returncode, bad_done.returncode
    assert good_rc == 0 and good_report["valid"]
    assert good_report["layers"][0]["output_shape"] == [None, 26, 26, 32]
    assert {"name", "class_name", "output_shape", "params", "error", "warnings"} <= set(
        good_report["layers"][0]
    )
    assert bad_rc == 1 and not bad_report["valid"]
    assert "Reshape to (28, 28, 1)" in bad_report["layers"][0]["error"]
    res = run_cli("check", str(broken))
    assert res.returncode == 2 and "not valid JSON" in res.stderr and "Traceback" not in res.stderr


def test_check_text_output(tmp_path):
    res = run_cli("check", os.path.join(ROOT, "templates", "imdb_dense.json"))
    assert res.returncode == 0, res.stderr
    assert "160,016" in res.stdout and "valid" in res.stdout


def test_check_prints_the_fixes_of_a_model_level_error(tmp_path, capfd):
    doc = json.loads(open(os.path.join(ROOT, "templates", "offline_default.json")).read())
    doc["fit"]["validation"] = {"method": "holdout", "count": 5000}  # Digits trains on 1,437
    path = tmp_path / "holdout.json"
    path.write_text(json.dumps(doc))
    text = cli_in_process(capfd, "check", path, cwd=ROOT)
    as_json = cli_in_process(capfd, "check", path, "--json", cwd=ROOT)
    lines = [
        *text.stdout.strip().splitlines(),
        str(text.returncode),
        *as_json.stdout.strip().splitlines(),
        str(as_json.returncode),
    ]
    error = next(i for i, line in enumerate(lines) if line.startswith("error: fit.validation"))
    assert "5,000 samples are held out" in lines[error]
    assert lines[error + 1 : error + 3] == [
        "  fix: Hold out 20 % instead",
        "  fix: Hold out 287 samples",
    ]
    assert lines[-4:-2] == ["NOT valid", "1"]
    report = json.loads(lines[-2])
    (message,) = report["errors"]
    assert report["error_fixes"][message][0] == {
        "label": "Hold out 20 % instead",
        "action": {
            "op": "set_fit",
            "key": "validation",
            "value": {"method": "holdout", "fraction": 0.2},
        },
    }
    assert lines[-1] == "1"


def test_unknown_command_exits_2():
    assert run_cli("frobnicate").returncode == 2
