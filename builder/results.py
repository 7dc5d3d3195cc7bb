"""What the shape checker and the advice report: plain dataclasses, no Keras, no logic.

``builder.checker`` fills a ``CheckResult`` with per-layer shapes and errors,
``builder.advice`` adds warnings to it; pages, the CLI and the stack/graph components read
it. Keeping the types here lets each of those import them without importing the others.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

Shape = tuple  # without the batch axis; None = unknown length


@dataclass
class Fix:
    """A one-click repair. ``action`` is plain data applied by ``builder.fixes.apply_fix``."""

    label: str
    action: dict


@dataclass
class Advice:
    """A warning beside the errors: the model builds, but probably not as intended."""

    code: str
    message: str
    layer: str | None = None
    fix: Fix | None = None


@dataclass
class LayerReport:
    name: str
    class_name: str
    inbound: list[str]
    input_shapes: list[list] = field(default_factory=list)  # each with None for the batch axis
    output_shape: list | None = None  # a list of lists for several outputs
    params: int = 0
    trainable_params: int = 0
    non_trainable_params: int = 0
    error: str | None = None
    fixes: list[Fix] = field(default_factory=list)
    warnings: list[Advice] = field(default_factory=list)
    tentative: bool = False
    summary: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class CheckResult:
    valid: bool
    inputs: list[dict]
    layers: list[LayerReport]
    errors: list[str] = field(default_factory=list)  # problems not tied to one layer
    # The one-click fixes of those problems that have one, keyed by the error's message.
    error_fixes: dict[str, list[Fix]] = field(default_factory=dict)
    warnings: list[Advice] = field(default_factory=list)  # model-level advice
    total_params: int = 0
    trainable_params: int = 0
    non_trainable_params: int = 0
    memory_bytes: int = 0  # rough training memory estimate
    # Set by ``fit_check.check``: does Keras build it; does it fit the project's data (None:
    # not known, ``data_reason`` says why: no data chosen, data that cannot be read); the
    # bundled dataset whose samples fit the input of a model with no data chosen.
    builds: bool | None = None
    fits_data: bool | None = None
    data_reason: str | None = None
    data_suggestion: dict | None = None
    _index: dict = field(default_factory=dict, repr=False, compare=False)
    _indexed: int = field(default=-1, repr=False, compare=False)

    def layer(self, name: str) -> LayerReport | None:
        """The report of layer ``name`` (the first, should names repeat); a dict lookup, so
        advice that asks for every layer stays linear in the model's size."""
        if self._indexed != len(self.layers):
            self._index = {r.name: r for r in reversed(self.layers)}
            self._indexed = len(self.layers)
        return self._index.get(name)

    def add_error(self, message: str, fixes: list[Fix] | None = None) -> None:
        """A problem not tied to one layer, with its fixes if it has any; not valid."""
        self.errors.append(message)
        if fixes:
            self.error_fixes[message] = list(fixes)
        self.valid = False

    def fixes_for(self, message: str) -> list[Fix]:
        """The fixes of the model-level error ``message`` (none for most)."""
        return self.error_fixes.get(message, [])

    def all_warnings(self) -> list[Advice]:
        return self.warnings + [w for r in self.layers for w in r.warnings]

    def to_json(self) -> dict:
        """The shape of ``python -m builder check --json``."""
        return {
            "valid": self.valid,
            "errors": list(self.errors),
            "error_fixes": {
                message: [asdict(f) for f in fixes] for message, fixes in self.error_fixes.items()
            },
            "inputs": self.inputs,
            "layers": [
                {
                    "name": r.name,
                    "class_name": r.class_name,
                    "inbound": r.inbound,
                    "input_shapes": r.input_shapes,
                    "output_shape": r.output_shape,
                    "params": r.params,
                    "trainable_params": r.trainable_params,
                    "non_trainable_params": r.non_trainable_params,
                    "error": r.error,
                    "tentative": r.tentative,
                    "fixes": [asdict(f) for f in r.fixes],
                    "warnings": [w.message for w in r.warnings],
                }
                for r in self.layers
            ],
            "warnings": [w.message for w in self.warnings],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "memory_bytes": self.memory_bytes,
            "builds": self.valid if self.builds is None else self.builds,
            "fits_data": self.fits_data,
            "fits_data_reason": self.data_reason,
            "data_suggestion": self.data_suggestion,
        }


# --------------------------------------------------------------------------- formatting


def _full(shape: Shape, batch: int | None = None) -> list:
    return [batch] + list(shape)


def fmt_shape(shape) -> str:
    """(None, 28, 28, 1) style, with the batch axis; several outputs joined by ' and '."""
    if shape is None:
        return "?"
    if shape and isinstance(shape[0], (list, tuple)):
        return " and ".join(fmt_shape(s) for s in shape)
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def describe_values(shape: Shape) -> str:
    """What a tensor of this shape (no batch axis) holds, in words a learner knows."""
    if len(shape) == 0:
        return "single numbers"
    if len(shape) == 1:
        return "vectors of " + ("any number of" if shape[0] is None else f"{shape[0]}") + " values"
    if len(shape) == 2:
        return f"sequences of {_d(shape[0])} steps × {_d(shape[1])} features"
    if len(shape) == 3:
        return f"images of {_d(shape[0])}×{_d(shape[1])} pixels × {_d(shape[2])} channels"
    return f"tensors of shape {fmt_shape((None,) + tuple(shape))}"


def _d(v) -> str:
    return "any" if v is None else str(v)


def insert_flatten(name: str) -> Fix:
    """The repair that flattens what reaches layer ``name``."""
    return Fix(
        f"Insert Flatten before {name}",
        {"op": "insert_before", "target": name, "layer": {"class_name": "Flatten", "config": {}}},
    )
