"""Run the literal one-layer cases of Keras' own layer tests through `check`.

Keras' test files (installed with Keras under keras/src/layers/**/*_test.py) call
``self.run_layer_test(layers.X, init_kwargs={...}, input_shape=..., expected_output_shape=...)``.
This script reads those calls with ``ast`` (never imports or runs the tests), keeps the ones
whose class, settings, input shape and expected shape are literals, writes each as a
one-layer netbuilder project and compares ``check``'s output shape with Keras' expected one.

    python -m tools.keras_layer_cases            # agreement rate, and each disagreement
    python -m tools.keras_layer_cases --list     # the extracted cases as JSON lines
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from pathlib import Path


def keras_tests_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("keras")
    return Path(spec.origin).parent / "src" / "layers"


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return _NOT


_NOT = object()


def _param_sets(func: ast.FunctionDef) -> list[dict]:
    """The literal parameter sets of a @parameterized.parameters / named_parameters /
    product test ([{}] when undecorated; [] when a set is not literal)."""
    names = [a.arg for a in func.args.args[1:]]
    sets = None
    for dec in func.decorator_list:
        if not (
            isinstance(dec, ast.Call)
            and isinstance(dec.func, ast.Attribute)
            and dec.func.attr in ("parameters", "named_parameters", "product")
        ):
            continue
        if dec.func.attr == "product":
            import itertools

            axes = {k.arg: _literal(k.value) for k in dec.keywords}
            if any(v is _NOT for v in axes.values()):
                return []
            keys = list(axes)
            sets = [dict(zip(keys, combo)) for combo in itertools.product(*axes.values())]
            continue
        args = dec.args
        if (
            len(args) == 1
            and isinstance(args[0], (ast.List, ast.Tuple))
            and not (dec.func.attr == "parameters" and isinstance(args[0], ast.Tuple))
        ):
            args = args[0].elts
        sets = []
        for a in args:
            v = _literal(a)
            if v is _NOT:
                continue
            if isinstance(v, dict):
                v = {k: x for k, x in v.items() if k != "testcase_name"}
                sets.append(v)
            elif isinstance(v, (tuple, list)):
                vals = list(v)
                if dec.func.attr == "named_parameters":
                    vals = vals[1:]
                sets.append(dict(zip(names, vals)))
    return sets if sets is not None else [{}]


class _Bind(ast.NodeTransformer):
    def __init__(self, env):
        self.env = env

    def visit_Name(self, node):
        if node.id in self.env:
            return ast.copy_location(ast.Constant(self.env[node.id]), node)
        return node


def _bound(node, env):
    if not env:
        return _literal(node)
    import copy as _copy

    tree = _Bind(env).visit(_copy.deepcopy(node))
    try:
        return ast.literal_eval(tree)
    except (ValueError, SyntaxError, TypeError):
        return _NOT


def extract(root: Path | None = None) -> list[dict]:
    root = root or keras_tests_dir()
    cases = []
    for path in sorted(root.rglob("*_test.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef):
                for env in _param_sets(func):
                    cases += _calls(func, env, path, root)
    seen, unique = set(), []
    for c in cases:
        key = json.dumps(c, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique


def _calls(func, env, path, root) -> list[dict]:
    cases = []
    for node in ast.walk(func):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "run_layer_test"
            and node.args
        ):
            continue
        cls = node.args[0]
        if not (
            isinstance(cls, ast.Attribute)
            and isinstance(cls.value, ast.Name)
            and cls.value.id == "layers"
        ):
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if len(node.args) > 1 and "init_kwargs" not in kw:
            kw["init_kwargs"] = node.args[1]
        if "input_shape" not in kw or "expected_output_shape" not in kw:
            continue
        values = {
            k: _bound(kw[k], env)
            for k in (
                "init_kwargs",
                "input_shape",
                "expected_output_shape",
                "input_dtype",
                "call_kwargs",
            )
            if k in kw
        }
        if any(v is _NOT for v in values.values()):
            continue
        cases.append(
            {
                "file": str(path.relative_to(root)),
                "line": node.lineno,
                "class_name": cls.attr,
                "config": values.get("init_kwargs", {}),
                "input_shape": values["input_shape"],
                "expected": values["expected_output_shape"],
                "input_dtype": values.get("input_dtype"),
                "call_kwargs": values.get("call_kwargs", {}),
            }
        )
    return cases


def _unused():
    return None


def _plain(v):
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def project_for(case: dict) -> dict:
    """A one-layer project: each input shape (batch first) an input, all feeding the layer."""
    shapes = case["input_shape"]
    if isinstance(shapes, dict):
        shapes = list(shapes.values())
    elif not shapes or not isinstance(shapes[0], (list, tuple)):
        shapes = [shapes]
    dtype = case.get("input_dtype") or "float32"
    inputs = [
        {"name": f"in{i}", "shape": list(s[1:]), "batch_size": s[0], "dtype": dtype}
        for i, s in enumerate(shapes)
    ]
    config = _plain({**case["config"], **case.get("call_kwargs", {})})
    return {
        "format": "netbuilder.project",
        "version": 1,
        "name": "case",
        "model": {
            "inputs": inputs,
            "layers": [
                {
                    "name": "layer",
                    "class_name": case["class_name"],
                    "config": config,
                    "inbound": [i["name"] for i in inputs],
                }
            ],
            "outputs": ["layer"],
        },
        "compile": {
            "optimizer": {"class_name": "RMSprop", "config": {}},
            "loss": "mse",
            "loss_weights": None,
            "metrics": [],
        },
        "data": {"dataset": "digits", "options": {}},
        "fit": {
            "epochs": 1,
            "batch_size": 32,
            "validation": {"method": "none"},
            "shuffle": True,
            "seed": 0,
            "callbacks": [],
        },
    }


def _same(got, expected) -> bool:
    expected = _plain(expected)
    if isinstance(expected, dict):
        expected = list(expected.values())
    if isinstance(got, list) and got and isinstance(got[0], list):
        if expected and isinstance(expected[0], list):
            return got == expected
        return got[0] == expected
    return got == expected


def run(case: dict) -> tuple[bool, str]:
    from builder.checker import check

    result = check(project_for(case))
    rep = result.layer("layer")
    if rep is None or rep.error or result.errors:
        return False, (rep.error if rep and rep.error else "; ".join(result.errors))
    return _same(rep.output_shape, case["expected"]), f"got {rep.output_shape}"


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    cases = extract()
    if args.list:
        for c in cases:
            print(json.dumps(c, default=str))
        return 0
    ok = 0
    for c in cases:
        good, why = run(c)
        ok += good
        if not good:
            print(
                f"DIFF {c['file']}:{c['line']} {c['class_name']} {c['config']} "
                f"{c['input_shape']} -> expected {c['expected']}: {why}"
            )
    print(f"{ok}/{len(cases)} cases agree ({100 * ok / max(len(cases), 1):.1f} %)")
    return 0 if ok == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
