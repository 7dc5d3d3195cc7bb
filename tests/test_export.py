"""Export is tested by running it: each exported script trains for one epoch on a few
samples (``--smoke``) and reports the model it built, which must equal ``build(project)``
layer by layer (type, output shape, parameters).

Every exported run pays a TensorFlow import, so all scripts (and the notebook's code
cells, joined) run one after the other in a few subprocesses (one per core, sharing the
list), each through ``runpy`` with its own argv and stdout, exactly as
``python script.py --smoke --report PATH`` runs it.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from builder import export, templates
from builder.build import BuildError, build
from builder.project import ProjectError, validate
from tests.fixtures_data import MIXED_CASES, mixed_csv_project, two_target_project
from tests.helpers import project

NASTY_NAME = 'Digits "dense" \'quoted\'\n"""\nimport os; os.remove("x")  # \\ end'
SCRIPT_TIMEOUT = 240  # one exported script's smoke run, TensorFlow already imported
RUNNERS = 4  # at most this many processes run the scripts, one per core


# The batch fixture runs in the first test that asks for it: every script bounded by its own
# alarm, so the test's own limit is the sum of theirs (plus the TensorFlow import).
BATCH_TIMEOUT = 1800
pytestmark = pytest.mark.timeout(BATCH_TIMEOUT)


class ScriptReports(dict):
    """Each exported script's report by key; reading the key of a script that failed or ran
    out of time fails that test alone, with that script's own traceback."""

    def __init__(self, reports: dict, errors: dict[str, str]):
        super().__init__(reports)
        self.errors = errors

    def __contains__(self, key) -> bool:
        return super().__contains__(key) or key in self.errors

    def __getitem__(self, key):
        if key in self.errors:
            pytest.fail(f"the exported script {key!r} failed:\n{self.errors[key][-4000:]}")
        return super().__getitem__(key)


def _digits_dense():
    p = project(
        [
            ("hidden", "Dense", {"units": 16, "activation": "relu"}),
            ("out", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(64,),
    )
    p["name"] = NASTY_NAME
    p["fit"].update(
        epochs=3,
        validation={"method": "holdout", "count": 300},
        callbacks=[
            {
                "class_name": "EarlyStopping",
                "config": {"monitor": "val_loss", "patience": 2, "restore_best_weights": True},
            }
        ],
    )
    return p


def _digits_convnet():
    p = project(
        [
            ("conv", "Conv2D", {"filters": 8, "kernel_size": [3, 3], "activation": "relu"}),
            ("pool", "MaxPooling2D", {}),
            ("flat", "Flatten", {}),
            ("out", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(8, 8, 1),
        loss="sparse_categorical_crossentropy",
        options={"image_layout": "image"},
    )
    p["name"] = "Digits convnet"
    p["fit"].update(
        validation={"method": "split", "fraction": 0.2},
        callbacks=[{"class_name": "ReduceLROnPlateau", "config": {"patience": 1}}],
    )
    return p


def _imdb_lstm():
    p = project(
        [
            ("embed", "Embedding", {"input_dim": 100, "output_dim": 8}),
            (
                "bi",
                "Bidirectional",
                {
                    "layer": {
                        "class_name": "LSTM",
                        "config": {"units": 4, "return_sequences": True},
                    },
                    "merge_mode": "sum",
                },
            ),
            ("lstm", "LSTM", {"units": 8}),
            ("out", "Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        shape=(20,),
        dtype="int32",
        loss="binary_crossentropy",
        dataset="imdb",
        options={"num_words": 100, "encoding": "sequence", "maxlen": 20},
    )
    p["name"] = "IMDB LSTM"
    p["fit"]["validation"] = {"method": "holdout", "fraction": 0.25}
    return p


def _two_branches():
    """A graph: two Dense branches of one input joined by Concatenate; names that are
    Python keywords or the script's own names get a variable of their own."""
    p = project(
        [
            ("lambda", "Dense", {"units": 8, "activation": "relu"}, ["np"]),
            ("keras", "Dense", {"units": 4, "activation": "tanh"}, ["np"]),
            ("joined", "Concatenate", {}, ["lambda", "keras"]),
            ("out", "Dense", {"units": 1, "activation": "sigmoid"}, ["joined"]),
        ],
        inputs=[{"name": "np", "shape": [30], "dtype": "float32"}],
        loss="binary_crossentropy",
        dataset="breast_cancer",
    )
    p["name"] = "Two branches"
    p["fit"]["validation"] = {"method": "kfold", "k": 2}
    return p


def _two_outputs():
    p = project(
        [
            ("shared", "Dense", {"units": 16, "activation": "relu"}, ["pixels"]),
            ("digit", "Dense", {"units": 10, "activation": "softmax"}, ["shared"]),
            ("digit_sparse", "Dense", {"units": 10, "activation": "softmax"}, ["shared"]),
        ],
        inputs=[{"name": "pixels", "shape": [64], "dtype": "float32"}],
        outputs=["digit", "digit_sparse"],
    )
    p["name"] = "Two outputs"
    p["compile"].update(
        loss={
            "digit": "categorical_crossentropy",
            "digit_sparse": "sparse_categorical_crossentropy",
        },
        loss_weights={"digit": 1.0, "digit_sparse": 0.5},
        metrics={"digit": ["accuracy"], "digit_sparse": ["accuracy"]},
    )
    return p


def _csv_project(path):
    rows = [f"{r},{'ab'[r % 2]},{r * 30 + (r % 3)}" for r in range(2, 16)]
    if not path.exists():
        path.write_text("rooms,town,price\n" + "\n".join(rows) + "\n", encoding="utf-8")
    p = project(
        [("hidden", "Dense", {"units": 4, "activation": "relu"}), ("out", "Dense", {"units": 1})],
        shape=(3,),
        loss="mse",
        metrics=["mae"],
        dataset="csv",
        options={"path": str(path), "target": "price", "task": "regression", "test_fraction": 0.25},
    )
    p["fit"]["validation"] = {"method": "holdout", "fraction": 0.2}
    return p


BATCH = {
    "dense": _digits_dense,
    "convnet": _digits_convnet,
    "imdb_lstm": _imdb_lstm,
    "two_branches": _two_branches,
    "two_outputs": _two_outputs,
}

# Runs several exported scripts in one interpreter, each as ``python script.py --smoke
# --report PATH`` would (runpy, __main__, its own argv). IMDB's imdb.npz is not available
# offline (see ../shared/datasets/README.md), nor are Reuters' and CIFAR-10's, so their
# loaders are replaced by tiny made-up texts and images; the script's own encoding, labels
# and training still run.
RUNNER = textwrap.dedent("""
    import contextlib, json, os, runpy, signal, sys, traceback
    import numpy as np
    import keras

    def fake_text(classes):
        def load_data(num_words=None, **kwargs):
            rng = np.random.default_rng(0)
            def texts(n):
                return np.array([list(rng.integers(1, num_words, rng.integers(5, 40)))
                                 for _ in range(n)], dtype=object)
            return ((texts(80), rng.integers(0, classes, 80)),
                    (texts(40), rng.integers(0, classes, 40)))
        return load_data

    def fake_images(**kwargs):
        rng = np.random.default_rng(0)
        def part(n):
            return (rng.integers(0, 256, (n, 32, 32, 3)).astype("uint8"),
                    (np.arange(n) % 10).reshape(-1, 1).astype("uint8"))
        return part(40), part(20)

    keras.datasets.imdb.load_data = fake_text(2)
    keras.datasets.cifar10.load_data = fake_images
    keras.datasets.reuters.load_data = fake_text(46)
    def too_long(signum, frame):
        raise TimeoutError(f"still running after {SCRIPT_TIMEOUT} s")

    signal.signal(signal.SIGALRM, too_long)
    for script, report in json.loads(sys.argv[1]):
        try:  # the runners share one list: each script runs in the first runner to claim it
            os.close(os.open(report + ".claimed", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        sys.argv = [script, "--smoke", "--report", report]
        signal.alarm(SCRIPT_TIMEOUT)  # each script its own time limit
        try:
            with open(report + ".out", "w") as out, contextlib.redirect_stdout(out):
                runpy.run_path(script, run_name="__main__")
        except BaseException:  # the script's own failure, reported by its own test
            with open(report + ".error", "w") as out:
                out.write(traceback.format_exc())
        finally:
            signal.alarm(0)
        print("done", script, flush=True)
""").replace("SCRIPT_TIMEOUT", str(SCRIPT_TIMEOUT))


def _env():
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PLOTLY_RENDERER"] = "json"  # the notebook's curves print instead of opening a browser
    return env


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _run_parallel(args, cwd, copies, timeout):
    """``copies`` processes of ``python args...`` side by side (their output in files in
    ``cwd``, so no pipe fills up); each must exit 0."""
    procs = []
    try:
        for i in range(max(1, copies)):
            with open(cwd / f"runner{i}.log", "w") as log:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, *args], cwd=cwd, env=_env(), stdout=log, stderr=log
                    )
                )
        for i, proc in enumerate(procs):
            proc.wait(timeout=timeout)
            assert proc.returncode == 0, (cwd / f"runner{i}.log").read_text()[-4000:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _expected(p):
    """What the exported run must report: the layers, shapes and parameters of the model
    the app trains (build(project), ending in the step back to the label's units when
    the target is standardised)."""
    import keras

    from builder.data import loader

    model = build(p, label_scale=loader.label_scale(p))
    layers = [
        {
            "name": layer.name,
            "class_name": type(layer).__name__,
            "output_shape": [list(t.shape) for t in keras.tree.flatten(layer.output)],
            "params": layer.count_params(),
        }
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    return layers, model.count_params()


def _assert_same_model(report, p):
    layers, total = _expected(p)
    assert report["layers"] == layers
    assert report["total_params"] == total
    assert report["test"] and all(v == v for v in report["test"].values())  # no NaN


def _notebook_as_script(p) -> str:
    """The notebook's code cells, in order, with the quick-check settings switched on."""
    notebook = nbformat.reads(export.to_notebook(p), as_version=4)
    nbformat.validate(notebook)
    code = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "SMOKE = False" in code and "REPORT = None" in code
    return code.replace("SMOKE = False", "SMOKE = True").replace(
        "REPORT = None", "import sys; REPORT = sys.argv[-1]"
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One subprocess runs every exported script (and the notebook's code); returns
    (reports by key, stdout, code by key, the CSV file's path)."""
    folder = tmp_path_factory.mktemp("export-batch")
    cached = Path(os.environ["KERAS_HOME"]) / "datasets"
    here = {
        "mnist": (cached / "mnist.npz").exists(),
        "boston_housing": (cached / "boston_housing.npz").exists(),
    }
    scripts = {key: export.to_script(make()) for key, make in BATCH.items()}
    for name in templates.names():
        p = templates.load(name)
        # a template on the user's own CSV (imdb_text) is exported in test_adapt, with one
        if here.get(p["data"]["dataset"], True) and p["data"]["dataset"] != "csv":
            scripts[f"template_{name}"] = export.to_script(p)
    scripts["notebook"] = _notebook_as_script(_digits_convnet())
    scripts["csv"] = export.to_script(_csv_project(folder / "houses.csv"))
    for case in MIXED_CASES:  # the script reads its CSV by name, from the folder it runs in
        scripts[case] = export.to_script(mixed_csv_project(folder, case))
    scripts["two_targets"] = export.to_script(two_target_project(folder))
    jobs = []
    for key, code in scripts.items():
        script = folder / f"export_{key}.py"  # never a stdlib name such as csv.py
        script.write_text(code, encoding="utf-8")
        jobs.append([str(script), str(folder / f"{key}.json")])
    (folder / "runner.py").write_text(RUNNER, encoding="utf-8")
    # A few runners (one TensorFlow import each, one per core up to RUNNERS) share the list;
    # each script has its own time limit inside its runner, so this bound only catches a
    # runner that hangs outside every script.
    _run_parallel(
        [str(folder / "runner.py"), json.dumps(jobs)],
        cwd=folder,
        copies=min(RUNNERS, _cores()),
        timeout=SCRIPT_TIMEOUT * (len(jobs) + 1),
    )
    reports, errors, stdout = {}, {}, {}
    for key in scripts:
        failed = folder / f"{key}.json.error"
        out = folder / f"{key}.json.out"
        stdout[key] = out.read_text() if out.exists() else ""
        if failed.exists():
            errors[key] = failed.read_text()
        else:
            reports[key] = json.loads((folder / f"{key}.json").read_text())
    return ScriptReports(reports, errors), stdout, scripts, folder / "houses.csv", folder


# --------------------------------------------------------------------------- running it


@pytest.mark.parametrize("key", list(BATCH))
def test_exported_script_builds_the_same_model(batch, key):
    _assert_same_model(batch[0][key], BATCH[key]())


def test_script_keeps_the_project_name_as_data(batch):
    report, stdout = batch[0]["dense"], batch[1]["dense"]
    assert report["project"] == NASTY_NAME
    assert "val_loss" in report["curves"] and "test accuracy" in stdout


def test_kfold_script_averages_fold_curves(batch):
    curves = batch[0]["two_branches"]["curves"]
    assert {"loss", "val_loss"} <= set(curves) and len(curves["val_loss"]) == 1


def test_mnist_script_runs_on_the_real_files(shared_datasets, batch):
    _assert_same_model(batch[0]["template_mnist_dense"], templates.load("mnist_dense"))


@pytest.mark.parametrize("name", templates.names())
def test_every_template_exports_a_script_that_builds_it(batch, name):
    p = templates.load(name)
    if f"template_{name}" not in batch[0]:
        pytest.skip(
            f"{p['data']['dataset']} files are not in ../shared/datasets here"
            if p["data"]["dataset"] != "csv"
            else "the template reads the user's own CSV: tests/test_adapt.py exports it"
        )
    _assert_same_model(batch[0][f"template_{name}"], p)


def test_notebook_code_builds_the_same_model(batch):
    _assert_same_model(batch[0]["notebook"], _digits_convnet())


def test_notebook_cells_explain_the_code():
    notebook = nbformat.reads(export.to_notebook(_two_outputs()), as_version=4)
    kinds = [c.cell_type for c in notebook.cells]
    assert kinds[:3] == ["markdown", "markdown", "code"]
    assert all(a == "markdown" for a, b in itertools.pairwise(kinds) if b == "code")
    assert notebook.cells[-1].source.startswith("try:\n    import plotly")


# --------------------------------------------------------------------------- the code


def test_user_strings_stay_string_literals():
    p = _digits_dense()
    code = export.to_script(p)
    tree = ast.parse(code)
    names = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "PROJECT_NAME"
    ]
    assert len(names) == 1 and ast.literal_eval(names[0].value) == NASTY_NAME
    assert "os.remove" not in code.replace(repr(NASTY_NAME), "")
    title = nbformat.reads(export.to_notebook(p), as_version=4).cells[0].source
    # One markdown line, its markup escaped (builder.codegen.markdown): the name's "#" stays
    # text instead of starting a heading.
    assert title.count("\n") == 2 and 'os.remove("x") \\#' in title


def test_stack_is_sequential_graph_is_functional_in_code():
    assert "keras.Sequential([" in export.to_script(_digits_convnet())
    graph = export.to_script(_two_branches())
    assert "keras.Model(inputs=np_, outputs=out" in graph
    assert "lambda_ = keras.layers.Dense(units=8, activation='relu', name='lambda')(np_)" in graph
    assert "joined = keras.layers.Concatenate(name='joined')([lambda_, keras_])" in graph


def test_compile_and_fit_by_keyword():
    code = export.to_script(_two_outputs())
    assert "optimizer=keras.optimizers.RMSprop(learning_rate=0.001)" in code
    assert "loss_weights={'digit': 1.0, 'digit_sparse': 0.5}" in code
    assert "'digit': keras.utils.to_categorical(y, num_classes)" in code
    assert "'digit_sparse': y.astype(\"int32\")" in code
    convnet = export.to_script(_digits_convnet())
    assert (
        "validation_split=0.2" in convnet
        and "keras.callbacks.ReduceLROnPlateau(patience=1)" in convnet
    )


@pytest.mark.parametrize(
    "dataset,options,expected",
    [
        ("mnist", {"image_layout": "image"}, "keras.datasets.mnist.load_data()"),
        ("fashion_mnist", {}, "x_train = scale_pixels(x_train, 255.0, (784,))"),
        ("cifar10", {}, "x_test = scale_pixels(x_test, 255.0, (32, 32, 3))"),
        ("reuters", {"num_words": 500}, "def multi_hot(sequences, dimension=500)"),
        ("imdb", {"encoding": "sequence", "maxlen": 50}, "pad_sequences(train_data, maxlen=50)"),
        ("boston_housing", {}, "x_train, x_test = standardize(x_train, MEAN, STD), standardize("),
        ("diabetes", {"normalize": False}, "load_diabetes(scaled=False, return_X_y=True)"),
        ("wine", {"test_fraction": 0.3}, "test_size=0.3,\n    random_state=0, stratify=y)"),
    ],
)
def test_data_code_per_dataset(dataset, options, expected):
    """The data section alone: the model (one Dense on 4 inputs) need not fit the data, as
    export of a whole script refuses a model that does not."""
    p = project(
        [("out", "Dense", {"units": 1})], shape=(4,), loss="mse", dataset=dataset, options=options
    )
    _, code = export._data_code(export._Data(validate(p)))
    assert expected in code
    compile(code, "<export>", "exec")


def test_csv_data_code(batch):
    code = batch[2]["csv"]
    assert "CSV_FILE = 'houses.csv'" in code and "TARGET = 'price'" in code
    assert "frame = read_rows(CSV_FILE, SEPARATOR)" in code


def test_csv_script_builds_the_same_model(batch):
    _assert_same_model(batch[0]["csv"], _csv_project(batch[3]))


@pytest.mark.parametrize("case", list(MIXED_CASES))
def test_csv_script_trains_on_a_file_with_id_empty_and_text_columns(batch, case):
    """The CSV cases of test_export_data.py (whose prepared arrays equal the app's) train."""
    _assert_same_model(batch[0][case], mixed_csv_project(batch[4], case))


def test_two_target_script_trains_each_head_on_its_column(batch):
    report = batch[0]["two_targets"]
    _assert_same_model(report, two_target_project(batch[4]))
    assert {"kind_loss", "size_loss", "kind_accuracy", "size_mae"} <= set(report["test"])
    assert {"val_kind_loss", "val_size_loss"} <= set(report["curves"])


def test_invalid_project_is_refused_with_project_error():
    p = _digits_dense()
    p["model"]["layers"][0]["class_name"] = "Dense2"
    with pytest.raises(ProjectError, match="Dense2"):
        export.to_script(p)


def test_model_keras_refuses_is_not_exported():
    p = project([("conv", "Conv2D", {"filters": 2, "kernel_size": 3})], shape=(64,))
    for make in (export.to_script, export.to_notebook):
        with pytest.raises(BuildError, match="needs images"):
            make(p)


def test_keras_json_and_file(tmp_path):
    import keras

    p = _two_branches()
    model = keras.models.model_from_json(export.to_keras_json(p))
    assert model.count_params() == build(p).count_params()
    path = export.save_keras(p, tmp_path / "model.keras")
    assert keras.saving.load_model(path).count_params() == model.count_params()
    with pytest.raises(ProjectError, match=r"\.keras"):
        export.save_keras(p, tmp_path / "model.h5")
