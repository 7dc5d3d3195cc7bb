"""Input and output names that follow the data until the user renames them.

The templates and the default project name their input and output after the data
("pixels" and "digit" for Digits). When the data changes, such a name would go on
describing the old data ("pixels" feeding a wine table): ``follow`` renames the single
input and the single output to the new data's names, while they still carry a name
netbuilder gave (one of the data names below, or the old data's). A name the user chose
is kept, and so is every name when the change brings its own model (a template opened).
"""

from __future__ import annotations

import re
from typing import Any

# What a sample and a prediction of each dataset are called.
INPUT_NAMES = {
    "imdb": "reviews",
    "reuters": "newswire",
    "boston_housing": "features",
    "mnist": "pixels",
    "fashion_mnist": "pixels",
    "cifar10": "image",
    "digits": "pixels",
    "breast_cancer": "measurements",
    "wine": "measurements",
    "diabetes": "measurements",
    "csv": "features",
}
OUTPUT_NAMES = {
    "imdb": "sentiment",
    "reuters": "topic",
    "boston_housing": "price",
    "mnist": "digit",
    "fashion_mnist": "clothing",
    "cifar10": "object",
    "digits": "digit",
    "breast_cancer": "diagnosis",
    "wine": "cultivar",
    "diabetes": "progression",
}
# Names netbuilder gives (templates, a new project) besides those above.
_GIVEN_INPUTS = set(INPUT_NAMES.values()) | {"input", "image", "words"}
_GIVEN_OUTPUTS = set(OUTPUT_NAMES.values()) | {"output", "label", "target"}


def column_name(column: str) -> str | None:
    """A CSV column as a layer name: 'Sale Price ($)' -> 'sale_price'; None when nothing
    of it is a name."""
    name = re.sub(r"\W+", "_", str(column), flags=re.ASCII).strip("_").lower()[:40].strip("_")
    if not name:
        return None
    return name if re.fullmatch(r"[a-z_]\w*", name) else f"target_{name}"


def names_for(data: Any) -> tuple[str | None, str | None]:
    """(input name, output name) the ``data`` section suggests; None where it has none (no
    data chosen, several CSV targets, a CSV whose target is not known)."""
    if not isinstance(data, dict) or data.get("chosen") is False:
        return None, None
    dataset = data.get("dataset")
    if dataset != "csv":
        return INPUT_NAMES.get(dataset), OUTPUT_NAMES.get(dataset)
    options = data.get("options") or {}
    if options.get("targets"):
        return INPUT_NAMES["csv"], None
    target = options.get("target")
    if not isinstance(target, str):
        try:
            from builder.data.registry import describe

            target = describe(data).target_name
        except Exception:  # an unreadable CSV: no output name to follow it yet
            target = None
    return INPUT_NAMES["csv"], column_name(target) if isinstance(target, str) else None


def _skeleton(project: dict) -> tuple:
    model = project.get("model") or {}
    return (
        [i.get("name") for i in model.get("inputs") or []],
        [lay.get("name") for lay in model.get("layers") or []],
        list(model.get("outputs") or []),
    )


def follow(before: dict, after: dict) -> tuple[dict, list[str]]:
    """``after`` with its single input and single output renamed for its data when the data
    changed from ``before``'s and they still carry names netbuilder gave; and a sentence
    per rename."""
    from builder import edit
    from builder.project import ProjectError

    old_in, old_out = names_for(before.get("data"))
    new_in, new_out = names_for(after.get("data"))
    if (old_in, old_out) == (new_in, new_out) or _skeleton(before) != _skeleton(after):
        return after, []
    inputs, outputs = _skeleton(after)[0], _skeleton(after)[2]
    said = []
    renames = []
    if len(inputs) == 1 and new_in and inputs[0] in _GIVEN_INPUTS | {old_in}:
        renames.append((edit.rename_input, inputs[0], new_in, "input"))
    targets = ((after.get("data") or {}).get("options") or {}).get("targets")
    if len(outputs) == 1 and new_out and not targets and outputs[0] in _GIVEN_OUTPUTS | {old_out}:
        renames.append((edit.rename_layer, outputs[0], new_out, "output"))
    for rename, old, new, what in renames:
        if old == new:
            continue
        try:
            after = rename(after, old, new)
        except ProjectError:  # the name is taken by another layer: keep the old one
            continue
        said.append(f"The {what} '{old}' is now '{new}', after the data.")
    return after, said
