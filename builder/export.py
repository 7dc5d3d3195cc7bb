"""Export a project as code people can run without netbuilder: a Python script, a Jupyter
notebook, Keras JSON or a ``.keras`` file.

The script and the notebook are made of the same sections (settings, data, model, compile,
fit, evaluate), each a short explanation and a block of code; the script joins the code,
the notebook puts each explanation in a markdown cell above its code cell. The data
section is written by ``builder.export_data``.

Generated code is plain Keras + NumPy (+ scikit-learn or pandas when the dataset needs
them). Every value taken from the project is written with ``repr`` of a plain Python value
(str, int, float, bool, None, lists, tuples, dicts of those), so a project name holding
quotes, newlines or triple quotes stays a string literal and can never become code.

The generated script accepts ``--epochs N``, ``--smoke`` (first 64 samples, 1 epoch: a quick
check that everything runs) and ``--report PATH`` (write the model's layers, output shapes,
parameter counts and test scores as JSON). The tests run it with ``--smoke --report``.

TensorFlow is imported lazily, when a function is called (the model is checked with Keras
before any code is written), never when this module is imported.
"""

from __future__ import annotations

from pathlib import Path

from builder import codegen, settings
from builder.adapt import pending
from builder.build import BuildError, _model_name
from builder.checker import _tuplify, call_refs
from builder.export_data import _Data, _data_code, _function
from builder.project import ProjectError, graph_order, is_sequential, shared_calls, validate
from builder.topology import inbound_of, split_ref

SMOKE_SAMPLES = 64

# Names the generated build_model() uses; codegen.variables also keeps keywords,
# __debug__ and builtins free.
_RESERVED = {"keras", "np", "model", "build_model"}
_py = codegen.literal


# --------------------------------------------------------------------------- values


def _kwargs(config: dict) -> str:
    return ", ".join(f"{key}={_py(value)}" for key, value in config.items())


def _layer_args(class_name: str, config: dict) -> dict:
    """The config as ``checker.make_layer`` passes it: JSON lists become tuples (axis and
    value lists stay lists); wrapped layers and call arguments are written separately."""
    from builder.checker import _KEEP_LISTS, split_call

    args = {}
    init, _ = split_call(class_name, config)
    for key, value in init.items():
        if _wrapped(value) or key == "name":
            continue
        args[key] = value if key in _KEEP_LISTS or not isinstance(value, list) else _tuplify(value)
    return args


def _wrapped(value) -> bool:
    from builder import catalogue

    return (
        isinstance(value, dict)
        and value.get("class_name") in catalogue.LAYERS
        and isinstance(value.get("config"), dict)
    )


def _layer_code(layer: dict) -> str:
    """``keras.layers.Dense(units=16, activation='relu', name='d1')``"""
    return _layer_expr(layer["class_name"], layer.get("config", {}), layer["name"])


def _layer_expr(cls: str, config: dict, name: str | None = None) -> str:
    from builder.checker import keras_class

    parts = []
    for key, value in config.items():
        if _wrapped(value):
            parts.append(f"{key}={_layer_expr(value['class_name'], value.get('config', {}))}")
    args = _kwargs(_layer_args(cls, config))
    if args:
        parts.append(args)
    if name is not None:
        parts.append(f"name={_py(name)}")
    keras_name = cls if hasattr(_keras_layers(), cls) else keras_class(cls).__name__
    return f"keras.layers.{keras_name}({', '.join(parts)})"


def _keras_layers():
    import keras

    return keras.layers


def _call_code(layer: dict, srcs: list[str], tensors: dict[str, str] | None = None) -> str:
    """How the layer is called: positional (query, value, key), a list, or one tensor, with
    its call arguments; ``tensors`` are the call's tensor arguments as code, by keyword
    (``initial_state=[enc_state_h, enc_state_c]``)."""
    from builder import catalogue
    from builder.checker import split_call

    _, calls = split_call(layer["class_name"], layer.get("config", {}))
    extra = "".join(f", {k}={_py(v)}" for k, v in calls.items())
    extra += "".join(f", {k}={code}" for k, code in (tensors or {}).items())
    if (catalogue.LAYERS.get(layer["class_name"]) or {}).get("call_style") == "positional":
        return ", ".join(srcs) + extra
    return (srcs[0] if len(srcs) == 1 else "[" + ", ".join(srcs) + "]") + extra


def _input_code(inp: dict) -> str:
    shape = tuple(inp["shape"])
    dtype = inp.get("dtype", "float32")
    extra = f", dtype={_py(dtype)}" if dtype != "float32" else ""
    if inp.get("batch_size"):
        extra += f", batch_size={inp['batch_size']}"
    return f"keras.Input(shape={_py(shape)}{extra}, name={_py(inp['name'])})"


def _variables(project: dict) -> dict[str, str]:
    """A Python variable per input and layer: its own name, unless that is a keyword, a
    builtin or a name the generated code uses (then ``name_``)."""
    model = project["model"]
    names = [i["name"] for i in model["inputs"]] + [lay["name"] for lay in model["layers"]]
    return codegen.variables(names, _RESERVED)


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name_``, ``name__`` ... when taken (then marked taken)."""
    while name in _RESERVED or name in taken:
        name += "_"
    taken.add(name)
    return name


def _output_variables(project: dict, taken: set[str]) -> dict[str, list[str]]:
    """A variable per output of each layer with several (Keras' names: ``enc``,
    ``enc_state_h``, ``enc_state_c``), from the checker's shapes; ``"enc:1"`` reads the
    second."""
    from builder.checker import output_names, shapes

    by_name = {lay["name"]: lay for lay in project["model"]["layers"]}
    found: dict[str, list[str]] = {}
    for report in shapes(project).layers:
        out = report.output_shape
        if not (out and isinstance(out[0], list) and len(out) > 1):
            continue
        lay = by_name[report.name]
        names = output_names(lay["class_name"], lay.get("config", {}), len(out))
        base = report.name
        found[report.name] = [base] + [_unique(f"{base}_{n}", taken) for n in names[1:]]
    return found


# --------------------------------------------------------------------------- sections


class _Section:
    def __init__(self, title: str, text: str, code: str):
        self.title, self.text, self.code = title, text, code.strip("\n")


def _settings_code(project: dict, for_notebook: bool) -> str:
    fit = project["fit"]
    if for_notebook:
        return (
            f"EPOCHS = {_py(fit['epochs'])}\n"
            "SMOKE = False  # True: first 64 samples and 1 epoch, a quick check that it runs\n"
            "REPORT = None  # a path: write layers, shapes, parameters and scores as JSON\n"
            "if SMOKE:\n"
            "    EPOCHS = 1\n"
            f"PROJECT_NAME = {_py(project.get('name', ''))}\n"
            f"keras.utils.set_random_seed({_py(fit['seed'])})"
        )
    return f"""parser = argparse.ArgumentParser(
    description="Train the network exported from netbuilder.")
parser.add_argument("--epochs", type=int, default={_py(fit["epochs"])},
                    help="number of epochs")
parser.add_argument("--smoke", action="store_true",
                    help="train on the first {SMOKE_SAMPLES} samples for 1 epoch "
                         "(checks that it runs)")
parser.add_argument("--report", metavar="PATH",
                    help="write the layers, output shapes, parameter counts and scores as JSON")
args = parser.parse_args()
EPOCHS = 1 if args.smoke else args.epochs
SMOKE = args.smoke
REPORT = args.report
PROJECT_NAME = {_py(project.get("name", ""))}
keras.utils.set_random_seed({_py(fit["seed"])})"""


def _imports(data: _Data, for_notebook: bool) -> str:
    lines = [] if for_notebook else ["import argparse"]
    lines += ["import json"] + (["import os"] if data.spec.source == "csv" else [])
    lines += ["", "import numpy as np"]
    if data.spec.source == "csv":
        lines.append("import pandas as pd")
    if data.spec.source == "sklearn":
        lines.append(f"from sklearn.datasets import load_{data.spec.name}")
    if data.spec.source in ("sklearn", "csv"):
        lines.append("from sklearn.model_selection import train_test_split")
    lines += ["", "import keras"]
    if data.text_input:
        lines.append("import tensorflow as tf  # Keras takes text as TensorFlow strings")
    return "\n".join(lines)


def _encode_expr(kind: str, var: str) -> str:
    """Labels in the form training gives them to the loss (``preprocess.labels_for_loss``):
    "one_hot", "integer", or float32 0/1 ("binary") or values ("value")."""
    return {
        "one_hot": f"keras.utils.to_categorical({var}, num_classes)",
        "integer": f'{var}.astype("int32")',
        "binary": f'{var}.astype("float32")',
        "value": f'{var}.astype("float32")',
    }[kind]


def _shape_code(project: dict, data: _Data) -> tuple[str, str]:
    """Labels encoded to match each output's loss; the smoke cut; inputs/targets helpers
    for several inputs or outputs."""
    model = project["model"]
    encodings = {out: data.encoder.labels[out] for out in model["outputs"]}
    columns = {t["output"]: (i, t) for i, t in enumerate(data.encoder.targets or [])}
    lines = []
    if "one_hot" in encodings.values() and not columns:
        if data.info.num_classes:
            lines.append(f"num_classes = {_py(data.info.num_classes)}")
        else:
            lines.append("num_classes = int(max(y_train.max(), y_test.max())) + 1")
    lines += [
        "if SMOKE:",
        f"    x_train, y_train = x_train[:{SMOKE_SAMPLES}], y_train[:{SMOKE_SAMPLES}]",
        f"    x_test, y_test = x_test[:{SMOKE_SAMPLES}], y_test[:{SMOKE_SAMPLES}]",
        "",
    ]
    single_in = len(model["inputs"]) == 1
    single_out = len(model["outputs"]) == 1
    text = []
    kinds = {
        "one_hot": "one-hot vectors (categorical_crossentropy)",
        "integer": "integer class indices (sparse_categorical_crossentropy)",
        "binary": "float32 0/1 values (binary_crossentropy)",
        "value": "float32 values",
    }
    if columns:
        text.append(
            "Each output gets its own column of y, encoded as its loss expects: "
            + "; ".join(f"`{out}` {kinds[kind]}" for out, kind in encodings.items())
            + "."
        )
    elif single_out:
        kind = next(iter(encodings.values()))
        text.append(f"The labels become {kinds[kind]}, as the loss expects.")
    else:
        text.append("Each output gets the labels encoded as its loss expects.")
    lines.append("")
    lines.append("def inputs(x):")
    if data.text_input:
        text.append("The texts reach Keras as TensorFlow strings.")
        lines.append("    return tf.constant(x.astype(str))")
    elif single_in:
        lines.append("    return x")
    else:
        text.append("Every input receives the dataset's features, by input name.")
        items = ", ".join(f"{_py(i['name'])}: x" for i in model["inputs"])
        lines.append(f"    return {{{items}}}")
    lines += ["", "", "def targets(y):"]
    if columns:
        entries = []
        for out, kind in encodings.items():
            i, target = columns[out]
            expr = _encode_expr(kind, f"y[:, {i}]")
            if kind == "one_hot":
                width = _py(target["num_classes"] or 2)
                expr = f'keras.utils.to_categorical(y[:, {i}].astype("int32"), {width})'
            entries.append(f"{_py(out)}: {expr}")
        lines.append("    return {" + ",\n            ".join(entries) + "}")
    elif single_out:
        lines.append(f"    return {_encode_expr(next(iter(encodings.values())), 'y')}")
    else:
        items = ",\n            ".join(
            f"{_py(out)}: {_encode_expr(kind, 'y')}" for out, kind in encodings.items()
        )
        lines.append(f"    return {{{items}}}")
    text.append(f"`--smoke` keeps only the first {SMOKE_SAMPLES} samples of each split.")
    return " ".join(text), "\n".join(lines)


def _label_units_code(enc) -> tuple[str, list[str]]:
    """(text, comment lines) of the step back to the label's units, for a regression target
    standardised for training (``build.with_label_units``); ("", []) for any other."""
    if enc.target_mean is None:
        return "", []
    text = (
        " The target is standardised for training, as in the app: the model's last step "
        "(`Rescaling`) multiplies by the training targets' deviation and adds their mean, "
        "so the loss, metrics and predictions are in the label's own units."
    )
    return text, [
        "    # The target is standardised for training (training split: mean "
        f"{enc.target_mean:.6g}, deviation {enc.target_std:.6g});",
        "    # this last step gives predictions, loss and metrics back in the label's own units.",
    ]


def _label_units_layer(enc) -> str:
    from builder.build import LABEL_UNITS

    return (
        f"keras.layers.Rescaling(scale={_py(enc.target_std)}, offset={_py(enc.target_mean)}, "
        f'dtype="float32", name={_py(LABEL_UNITS)})'
    )


def _model_code(project: dict, data: _Data) -> tuple[str, str]:
    model = project["model"]
    name = _py(_model_name(project))
    body = ["def build_model():"]
    units_text, units_lines = _label_units_code(data.encoder)
    if is_sequential(project):
        text = "A plain stack of layers, so `keras.Sequential`."
        body.append("    model = keras.Sequential([")
        body.append(f"        {_input_code(model['inputs'][0])},")
        body += [f"        {_layer_code(lay)}," for lay in model["layers"]]
        if units_lines:
            body += ["    " + line for line in units_lines]
            body.append(f"        {_label_units_layer(data.encoder)},")
        body.append(f"    ], name={name})")
    else:
        text = (
            "A graph of layers, so Keras' functional API: each layer is called on the "
            "tensors it reads, in an order where every input is ready."
        )
        var = _variables(project)
        links = inbound_of(model)
        taken = set(var.values())
        outs_of = _output_variables(project, taken)
        for layer_name, outs in outs_of.items():
            outs[0] = var[layer_name]
        shared = shared_calls(model)
        layer_var: dict[str, str] = {}

        def ref(source: str) -> str:
            node, index = split_ref(source)
            return outs_of[node][index] if node in outs_of else var[node]

        for inp in model["inputs"]:
            body.append(f"    {var[inp['name']]} = {_input_code(inp)}")
        for lay in graph_order(project):
            srcs = [ref(s) for s in links[lay["name"]]]
            by_keyword = {
                key: "[" + ", ".join(ref(r) for r in refs) + "]"
                if isinstance(refs, list)
                else ref(refs)
                for key, refs in call_refs(lay).items()
            }
            owner = lay.get("shares") or lay["name"]
            if owner in shared and owner not in layer_var:
                # a shared layer: made once, called at each of its call sites
                layer_var[owner] = _unique(f"{var[owner]}_layer", taken)
                owner_entry = next(x for x in model["layers"] if x["name"] == owner)
                body.append(f"    {layer_var[owner]} = {_layer_code(owner_entry)}")
            made = layer_var.get(owner) or _layer_code(lay)
            target = ", ".join(outs_of.get(lay["name"], [var[lay["name"]]]))
            body.append(f"    {target} = {made}({_call_code(lay, srcs, by_keyword)})")
        ins = [var[i["name"]] for i in model["inputs"]]
        outs = [
            "[" + ", ".join(outs_of[o]) + "]" if o in outs_of else var[o] for o in model["outputs"]
        ]
        ins_code = ins[0] if len(ins) == 1 else "[" + ", ".join(ins) + "]"
        outs_code = outs[0] if len(outs) == 1 else "[" + ", ".join(outs) + "]"
        if units_lines:
            body += units_lines
            body.append(f"    in_label_units = {_label_units_layer(data.encoder)}({outs_code})")
            outs_code = "in_label_units"
        body.append(f"    model = keras.Model(inputs={ins_code}, outputs={outs_code}, name={name})")
    body += _compile_code(project)
    body.append("    return model")
    body += ["", "", "model = build_model()", "model.summary()"]
    return text + units_text, "\n".join(body)


def _compile_code(project: dict) -> list[str]:
    comp = project["compile"]
    opt = comp["optimizer"]
    written = settings.changed(
        settings.OPTIMIZERS[opt["class_name"]]["params"], opt["config"], keep=("learning_rate",)
    )
    lines = [
        "    model.compile(",
        f"        optimizer=keras.optimizers.{opt['class_name']}({_kwargs(written)}),",
        f"        loss={_py(comp['loss'])},",
        f"        metrics={_py(comp['metrics'])},",
    ]
    if comp["loss_weights"]:
        lines.append(f"        loss_weights={_py(comp['loss_weights'])},")
    lines.append("    )")
    return lines


def _callbacks_code(project: dict) -> str:
    made = []
    for cb in project["fit"]["callbacks"]:
        name = cb["class_name"]
        config = settings.changed(settings.CALLBACKS[name]["params"], cb["config"])
        if cb["class_name"] == "TensorBoard":
            config.setdefault("log_dir", "logs")
        if cb["class_name"] == "BackupAndRestore":
            config.setdefault("backup_dir", "backup")
        made.append(f"keras.callbacks.{cb['class_name']}({_kwargs(config)})")
    lines = [
        "def make_callbacks(validation=True):",
        '    """Fresh callbacks for one fit; without validation data, none watches',
        '    a val_ value."""',
        "    callbacks = [",
    ]
    lines += [f"        {m}," for m in made]
    lines += [
        "    ]",
        "    if not validation:",
        "        callbacks = [c for c in callbacks if not",
        '                     str(getattr(c, "monitor", "")).startswith("val_")]',
        "    return callbacks",
    ]
    return "\n".join(lines)


def _fit_code(project: dict) -> tuple[str, str]:
    fit = project["fit"]
    val = fit["validation"]
    method = val["method"]

    def common(
        indent: str = "    ", validation: bool = True, verbose: int = 2, first: str = ""
    ) -> list[str]:
        """The fit arguments every method shares, as the closing lines of a fit call."""
        watch = "" if validation else "validation=False"
        return [
            f"{indent}{first}epochs=EPOCHS, batch_size={_py(fit['batch_size'])}, "
            f"shuffle={_py(fit['shuffle'])},",
            f"{indent}callbacks=make_callbacks({watch}), verbose={verbose})",
        ]

    code = [_callbacks_code(project), "", ""]
    adapt = bool(pending(project))
    if adapt:
        code += [_adapt_code(), "", ""]
    if method == "holdout":
        if val.get("count") is not None:
            size = _py(val["count"])
            what = f"the first {val['count']} training samples"
        else:
            size = f"int(round(len(x_train) * {_py(val['fraction'])}))"
            what = f"the first {val['fraction']:.0%} of the training samples"
        text = f"Hold out {what} for validation, as the book does, and train on the rest."
        code += [
            f"val_count = {size}",
            "if SMOKE:",
            "    val_count = min(val_count, len(x_train) // 4)",
            "x_val, partial_x_train = x_train[:val_count], x_train[val_count:]",
            "y_val, partial_y_train = y_train[:val_count], y_train[val_count:]",
            *(["adapt_layers(model, inputs(partial_x_train))"] if adapt else []),
            "history = model.fit(",
            "    inputs(partial_x_train), targets(partial_y_train),",
            "    validation_data=(inputs(x_val), targets(y_val)),",
            *common(),
            "curves = history.history",
        ]
    elif method == "kfold":
        k = val["k"]
        text = (
            f"K-fold validation with k={k}, as the book does for small data sets: each "
            "fold in turn is the validation data of a fresh model trained on the other "
            "folds, and the validation scores are averaged. A final model is then "
            "trained on all the training data."
        )
        code += [
            f"k = {_py(k)}",
            "num_val_samples = len(x_train) // k",
            "fold_scores, fold_curves = [], []",
            "for i in range(k):",
            '    print(f"fold {i + 1} of {k}")',
            "    start, stop = i * num_val_samples, (i + 1) * num_val_samples",
            "    x_val, y_val = x_train[start:stop], y_train[start:stop]",
            "    partial_x_train = np.concatenate([x_train[:start], x_train[stop:]], axis=0)",
            "    partial_y_train = np.concatenate([y_train[:start], y_train[stop:]], axis=0)",
            "    fold_model = build_model()",
            *(["    adapt_layers(fold_model, inputs(partial_x_train))"] if adapt else []),
            "    fold_history = fold_model.fit(",
            "        inputs(partial_x_train), targets(partial_y_train),",
            "        validation_data=(inputs(x_val), targets(y_val)),",
            *common("        "),
            "    fold_curves.append(fold_history.history)",
            "    fold_scores.append(fold_model.evaluate(",
            "        inputs(x_val), targets(y_val), verbose=0, return_dict=True))",
            "",
            "epochs_run = min(len(next(iter(c.values()))) for c in fold_curves)",
            "curves = {key: [float(np.mean([c[key][e] for c in fold_curves]))",
            "                for e in range(epochs_run)] for key in fold_curves[0]}",
            "for key in fold_scores[0]:",
            '    print(f"mean validation {key} over {k} folds: "',
            '          f"{np.mean([s[key] for s in fold_scores]):.4f}")',
            "",
            *(["adapt_layers(model, inputs(x_train))"] if adapt else []),
            "history = model.fit(",
            "    inputs(x_train), targets(y_train),",
            *common(validation=False, verbose=0),
        ]
    else:
        if method == "split":
            args = common(first=f"validation_split={_py(val['fraction'])}, ")
            text = (
                f"Train, letting Keras keep the last {val['fraction']:.0%} of the "
                "training samples for validation (`validation_split`)."
            )
        else:
            args = common(validation=False)
            text = "Train on all the training samples, without validation data."
        if adapt and method == "split":
            # the layers learn from the samples fit trains on, not Keras' validation share
            code.append(
                "adapt_layers(model, inputs(x_train[: int(np.floor(len(x_train) * "
                f"(1.0 - {_py(val['fraction'])})))]))"
            )
        elif adapt:
            code.append("adapt_layers(model, inputs(x_train))")
        code += [
            "history = model.fit(",
            "    inputs(x_train), targets(y_train),",
            *args,
            "curves = history.history",
        ]
    return text, "\n".join(code)


def _adapt_code() -> str:
    """``builder.adapt.adapt_layers`` and its constants, as training runs it: preprocessing
    layers given no state learn it from the first training samples before fit."""
    from builder import adapt

    return (
        "# Preprocessing layers given no vocabulary, mean or bins learn them from the first\n"
        "# training samples before training (Keras' adapt), as netbuilder does.\n"
        f"ADAPT_SAMPLES = {_py(adapt.ADAPT_SAMPLES)}\n"
        f"STATE_KEYS = {_py(adapt.STATE_KEYS)}\n\n\n"
        f"{_function(adapt.adapt_layers)}"
    )


_EVALUATE = """test_scores = model.evaluate(inputs(x_test), targets(y_test), verbose=0,
                             return_dict=True)
for key, value in test_scores.items():
    print(f"test {key}: {value:.4f}")

if REPORT:
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    report = {
        "project": PROJECT_NAME,
        "layers": [{"name": layer.name, "class_name": type(layer).__name__,
                    "output_shape": [list(t.shape) for t in keras.tree.flatten(layer.output)],
                    "params": layer.count_params()} for layer in layers],
        "total_params": model.count_params(),
        "curves": {key: [float(v) for v in values] for key, values in curves.items()},
        "test": {key: float(value) for key, value in test_scores.items()},
    }
    with open(REPORT, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)"""

_CURVES = """try:
    import plotly.graph_objects as go
except ImportError:
    go = None
if go is not None:
    figure = go.Figure()
    for key, values in curves.items():
        figure.add_scatter(y=values, x=list(range(1, len(values) + 1)), name=key)
    figure.update_layout(xaxis_title="epoch", yaxis_title="value")
    figure.show()
else:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        for key, values in curves.items():
            plt.plot(range(1, len(values) + 1), values, label=key)
        plt.xlabel("epoch")
        plt.legend()
        plt.show()
    else:
        for key, values in curves.items():
            print(key, " ".join(f"{v:.4f}" for v in values))"""


def refuse_invalid(project: dict) -> None:
    """BuildError (a ProjectError) with ``check``'s own messages unless ``python -m builder
    check`` calls the project valid (Keras builds it and it fits its data): nothing is
    exported that check refuses (the check imports Keras; its verdicts are cached)."""
    from builder import fit_check

    result = fit_check.check(project)
    if not result.valid:
        lines = [f"{name}: {m}" if name else m for name, m in fit_check.problems(result)]
        raise BuildError(
            "the project is not valid, so it is not exported (fix what check says):\n"
            + "\n".join(f"- {line}" for line in lines)
        )


def _valid(project: dict) -> dict:
    """The validated project, or BuildError with check's plain messages."""
    refuse_invalid(project)
    return validate(project)


def _sections(project: dict, for_notebook: bool) -> list[_Section]:
    project = _valid(project)
    data = _Data(project)
    data_text, data_code = _data_code(data)
    shape_text, shape_code = _shape_code(project, data)
    model_text, model_code = _model_code(project, data)
    fit_text, fit_code = _fit_code(project)
    return [
        _Section(
            "Imports",
            "NumPy and Keras"
            + (
                ", with scikit-learn for the data."
                if data.spec.source in ("sklearn", "csv")
                else "."
            ),
            _imports(data, for_notebook),
        ),
        _Section(
            "Settings",
            "Number of epochs, the quick-check switch and the random seed, so runs repeat.",
            _settings_code(project, for_notebook),
        ),
        _Section("Data", data_text, data_code),
        _Section("Labels", shape_text, shape_code),
        _Section(
            "Model",
            model_text + " `build_model()` builds and compiles a fresh model "
            "(the optimizer, loss and metrics chosen in the project).",
            model_code,
        ),
        _Section("Training", fit_text, fit_code),
        _Section(
            "Evaluation", "Score the trained model on the test data it has never seen.", _EVALUATE
        ),
    ]


# --------------------------------------------------------------------------- public API


def to_script(project: dict) -> str:
    """A runnable Python script that loads the data, builds, compiles, fits and evaluates
    the project's model. Raises BuildError (a ProjectError) for a model that is not valid,
    ProjectError for data settings that cannot be used."""
    sections = _sections(project, for_notebook=False)
    parts = [
        '"""Train a Keras network exported from netbuilder.\n\n'
        "Usage: python this_script.py [--epochs N] [--smoke] [--report PATH]\n"
        'The project name is in PROJECT_NAME below.\n"""'
    ]
    for section in sections:
        parts.append(
            f"# --- {section.title} " + "-" * (70 - len(section.title)) + "\n" + section.code
        )
    return "\n\n\n".join(parts) + "\n"


def to_notebook(project: dict) -> str:
    """The same code as ``to_script`` as a Jupyter notebook (nbformat v4 JSON text), one
    markdown cell explaining each code cell, plus training curves at the end."""
    import nbformat

    project = _valid(project)
    sections = _sections(project, for_notebook=True)
    cells = [
        nbformat.v4.new_markdown_cell(
            f"# {codegen.markdown(project.get('name') or 'Untitled network')}\n\n"
            "Exported from netbuilder: run the cells from top to bottom to load the data, build "
            "the network, train it and score it on the test data."
        )
    ]
    for section in sections:
        cells.append(nbformat.v4.new_markdown_cell(f"## {section.title}\n\n{section.text}"))
        cells.append(nbformat.v4.new_code_cell(section.code))
    cells.append(
        nbformat.v4.new_markdown_cell(
            "## Curves\n\nLoss and metrics per epoch (training and validation): when the "
            "validation loss rises while the training loss falls, the network overfits."
        )
    )
    cells.append(nbformat.v4.new_code_cell(_CURVES))
    notebook = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def _out_of_memory(exc: BaseException) -> ProjectError:
    return ProjectError(
        f"the model is too large to build in this machine's memory "
        f"({type(exc).__name__}): use fewer units or filters, or a smaller "
        "input."
    )


def to_keras_json(project: dict) -> str:
    """Keras' own JSON description of the built model (``model.to_json()``). Refuses
    (ProjectError) a model too large for the memory available, before building it."""
    from builder.build import build, check_memory, is_out_of_memory

    check_memory(project, "json")
    try:
        return build(project).to_json()
    except ProjectError:
        raise
    except Exception as exc:
        if is_out_of_memory(exc):
            raise _out_of_memory(exc) from None
        raise


def _adapt_for_export(project: dict, model) -> None:
    """Adapt the model's preprocessing layers to the project's training data, as a run
    does when it starts, so the file carries their vocabulary, mean or bins."""
    from builder.adapt import training_part
    from builder.build import adapt
    from builder.data import prepare

    data = prepare(project)
    adapt(model, training_part(project, data.x_train, data.y_train))


def save_keras(project: dict, path: str | Path) -> Path:
    """Build and compile the model and save it (untrained) as a ``.keras`` file; its
    preprocessing layers given no state are adapted to the training data first, as a run
    does (DataError when the data cannot be had). Refuses (ProjectError) a model too large
    for the memory available, before building it."""
    from builder.build import build, check_memory, is_out_of_memory

    path = Path(path)
    if path.suffix != ".keras":
        raise ProjectError(f"a Keras model file must end in .keras, got {path.name!r}.")
    check_memory(project, "keras")
    try:
        model = build(project)
        if pending(project):
            _adapt_for_export(project, model)
        # Create the optimizer's slots now, so loading the file restores them without Keras
        # warning that the saved optimizer "could not be loaded".
        model.optimizer.build(model.trainable_variables)
        model.save(path)
    except ProjectError:
        raise
    except Exception as exc:
        if is_out_of_memory(exc):
            raise _out_of_memory(exc) from None
        raise
    return path
