"""Command line: ``python -m builder check|export|train|sweep FILE``.

A public interface that users script: exit codes and the ``--json`` shape are kept stable
(see README, "Command line").

check   exit 0 valid (warnings allowed), 1 not valid (the data cannot be read included),
        2 file unreadable; a model with no data chosen is valid when it builds
export  exit 0 written, 1 model not valid (or too large for this machine's memory),
        2 file unreadable
train   exit 0 trained, 1 training failed, 2 file unreadable
sweep   exit 0 the sweep ran, 1 it could not run or every trial failed, 2 file unreadable

No command prints a traceback: anything unexpected is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from builder import limits
from builder.project import (
    ProjectError,
    load_project_file,
    parse_json,
    read_capped,
    with_local_paths,
)

EXPORT_FORMATS = ("script", "notebook", "keras-json", "keras", "ray-tune", "zip")


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _load(path: str):
    try:
        return with_local_paths(load_project_file(path), path), None
    except ProjectError as err:
        return None, err


def _check_text(result) -> str:
    from builder.results import fmt_shape

    lines = []
    width = max([len(r.name) for r in result.layers] + [5])
    for inp in result.inputs:
        lines.append(f"  {inp['name']:<{width}}  Input{'':<14}{fmt_shape(inp['shape']):<22}")
    for r in result.layers:
        shape = fmt_shape(r.output_shape) if r.output_shape else "-"
        mark = "ERROR" if r.error else ("~" if r.tentative else "")
        lines.append(f"  {r.name:<{width}}  {r.class_name:<19}{shape:<22}{r.params:>12,}  {mark}")
        if r.error:
            lines.append(f"      error: {r.error}")
            lines.extend(f"      fix: {f.label}" for f in r.fixes)
        lines.extend(f"      warning: {w.message}" for w in r.warnings)
    for message in result.errors:
        lines.append(f"error: {message}")
        lines.extend(f"  fix: {f.label}" for f in result.fixes_for(message))
    for w in result.warnings:
        lines.append(f"warning: {w.message}")
    lines.append(
        f"Total params: {result.total_params:,} (trainable {result.trainable_params:,}, "
        f"non-trainable {result.non_trainable_params:,}); about "
        f"{result.memory_bytes / 1024**2:,.1f} MB to train"
    )
    if result.data_reason and f"{result.data_reason}" not in result.errors:
        lines.append(f"data: {result.data_reason}")  # no data chosen: checked on its own
    lines.append("valid" if result.valid else "NOT valid")
    return "\n".join(lines)


def cmd_check(args) -> int:
    project, err = _load(args.file)
    if err is not None:
        # A file that parses but describes a broken model is still reported layer by layer.
        try:
            doc = parse_json(read_capped(args.file, limits.MAX_PROJECT_BYTES))
        except ProjectError:
            return _unreadable(args, err)
        if not (
            isinstance(doc, dict)
            and doc.get("format") == "netbuilder.project"
            and isinstance(doc.get("model"), dict)
        ):
            return _unreadable(args, err)
        project = doc
    _quiet_tensorflow()
    from builder.fit_check import check  # builds with Keras and fits the project's data

    result = check(project)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(_check_text(result))
    return 0 if result.valid else 1


def _unreadable(args, err: ProjectError) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"valid": False, "errors": str(err).splitlines(), "layers": []}))
    else:
        print(f"{args.file}: cannot use this file:\n{err}", file=sys.stderr)
    return 2


def cmd_export(args) -> int:
    project, err = _load(args.file)
    if err is not None:
        return _unreadable(args, err)
    _quiet_tensorflow()
    from builder import export

    out = Path(args.output)
    try:
        if args.to == "script":
            out.write_text(export.to_script(project), encoding="utf-8")
        elif args.to == "notebook":
            out.write_text(export.to_notebook(project), encoding="utf-8")
        elif args.to == "ray-tune":
            from builder.experiments.export import to_ray_tune_script

            out.write_text(to_ray_tune_script(project), encoding="utf-8")
        elif args.to == "zip":  # script and notebook with the CSV they read
            from builder.export_bundle import csv_zip

            out.write_bytes(csv_zip(project, out.stem or "model"))
        elif args.to == "keras-json":
            out.write_text(export.to_keras_json(project), encoding="utf-8")
        else:
            export.save_keras(project, out)
    except ProjectError as exc:  # BuildError included: the model or data settings can't be used
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot write '{out}': {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status. The last resort for anything unexpected:
    one line on stderr naming the error, exit 1, never a traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(
            "netbuilder ran out of memory: the file or model is too large for this machine.",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:
        text = " ".join(str(exc).split())[:300]
        print(f"netbuilder could not finish: {type(exc).__name__}: {text}", file=sys.stderr)
        return 1


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "train":
        _quiet_tensorflow()
        from builder.experiments.cli import train_on_ray
        from builder.training.cli import train_main

        return train_main(argv[1:], on_cluster=train_on_ray)
    if argv and argv[0] == "sweep":
        _quiet_tensorflow()
        from builder.experiments.cli import sweep_main

        return sweep_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m builder", description="Check, export and train netbuilder projects."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="print each layer's shapes, params, errors, warnings")
    p_check.add_argument("file")
    p_check.add_argument("--json", action="store_true", help="print the report as JSON")
    p_check.set_defaults(func=cmd_check)
    p_export = sub.add_parser(
        "export",
        help="write a script, notebook or Keras model, or an "
        "experiment as a Ray Tune script (--to ray-tune)",
    )
    p_export.add_argument("file")
    p_export.add_argument("--to", choices=EXPORT_FORMATS, default="script")
    p_export.add_argument("-o", "--output", required=True)
    p_export.set_defaults(func=cmd_export)
    sub.add_parser("train", help="train headless (see: python -m builder train --help)")
    sub.add_parser(
        "sweep",
        help="run the project's experiment on Ray Tune (see: python -m builder sweep --help)",
    )
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
