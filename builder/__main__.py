"""Command line: ``python -m builder check|export|train FILE``.

A public interface that users script: exit codes and the ``--json`` shape are kept stable
(see README, "Command line").

check   exit 0 valid (warnings allowed), 1 not valid, 2 file unreadable
export  exit 0 written, 1 model not valid, 2 file unreadable
train   exit 0 trained, 1 training failed, 2 file unreadable
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from builder.project import ProjectError, load_project_file, with_local_paths

EXPORT_FORMATS = ("script", "notebook", "keras-json", "keras")


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
    for w in result.warnings:
        lines.append(f"warning: {w.message}")
    lines.append(f"Total params: {result.total_params:,} (trainable {result.trainable_params:,}, "
                 f"non-trainable {result.non_trainable_params:,}); about "
                 f"{result.memory_bytes / 1024**2:,.1f} MB to train")
    lines.append("valid" if result.valid else "NOT valid")
    return "\n".join(lines)


def cmd_check(args) -> int:
    project, err = _load(args.file)
    if err is not None:
        # A file that parses but describes a broken model is still reported layer by layer.
        try:
            doc = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return _unreadable(args, err)
        if not (isinstance(doc, dict) and doc.get("format") == "netbuilder.project"
                and isinstance(doc.get("model"), dict)):
            return _unreadable(args, err)
        project = doc
    _quiet_tensorflow()
    from builder.fit_check import check    # builds with Keras and fits the project's data

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
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "train":
        _quiet_tensorflow()
        from builder.training.cli import train_main

        return train_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m builder",
                                     description="Check, export and train netbuilder projects.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="print each layer's shapes, params, errors, warnings")
    p_check.add_argument("file")
    p_check.add_argument("--json", action="store_true", help="print the report as JSON")
    p_check.set_defaults(func=cmd_check)
    p_export = sub.add_parser("export", help="write a script, notebook or Keras model")
    p_export.add_argument("file")
    p_export.add_argument("--to", choices=EXPORT_FORMATS, default="script")
    p_export.add_argument("-o", "--output", required=True)
    p_export.set_defaults(func=cmd_export)
    sub.add_parser("train", help="train headless (see: python -m builder train --help)")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
