"""The settings form of one layer or input, shared by the Build and Graph pages.

A ``LayerForm`` holds what differs between the pages: the widget key prefix (so the two
pages never share widget state), the session key of their refused values, and how a
``ProjectError`` is worded there. Its callbacks apply a value through ``builder.edit``
and commit it with ``ui.state``; a refused value stays in its field with the reason under
it until it is corrected. The widgets themselves come from ``ui.forms``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from builder import edit
from builder import project as projectlib
from builder.experiments.spec import layer_setting
from builder.project import ProjectError
from ui import forms, state
from ui.text import md

_NONE = "(none)"


def _inner_config(config: dict, path: tuple) -> dict:
    """The config of the layer wrapped at ``path`` inside ``config`` (each name a wrapper
    setting: ("layer", "layer") is the layer inside the layer inside), made when absent."""
    for name in path:
        wrapped = config.setdefault(name, {})
        config = wrapped.setdefault("config", {})
    return config


def find_layer(project: dict, name: str | None) -> dict | None:
    """The layer called ``name`` in ``project``, or None."""
    return next((lay for lay in project["model"]["layers"] if lay["name"] == name), None)


@dataclass(frozen=True)
class LayerForm:
    prefix: str  # widget keys start with it: "build", "graph"
    errors_key: str  # session key of {widget key: message}
    plain: Callable[[Exception], str]  # a ProjectError as the page words it

    def errors(self) -> dict:
        return st.session_state.setdefault(self.errors_key, {})

    def field_error(self, key: str) -> None:
        forms.field_error(st.session_state.get(self.errors_key, {}), key)

    def sync(self, key: str, value) -> None:
        """Show the project's value in a widget, unless it holds a refused value to correct."""
        forms.sync(st.session_state.get(self.errors_key, {}), key, value)

    def refuse(self, key: str, message: str) -> None:
        """Keep the widget's value and show ``message`` under it."""
        self.errors()[key] = message

    def accept(self, key: str, project: dict) -> None:
        """Commit ``project``, the widget's value having been applied to it."""
        self.errors().pop(key, None)
        state.set_project(project)

    # ---------------------------------------------------------------- callbacks

    def on_param(self, layer: str, spec: dict, key: str) -> None:
        """Validate the widget's value for parameter ``spec`` of ``layer`` and commit it."""
        try:
            value = forms.widget_value(spec, key)
        except ValueError as err:
            self.refuse(key, str(err))
            return
        project = state.get_project()
        lay = find_layer(project, layer)
        if lay is None:
            return
        config = dict(lay.get("config", {}))
        if value is None and not spec.get("nullable") and spec.get("default") is None:
            config.pop(spec["name"], None)
        else:
            config[spec["name"]] = value
        try:
            project = edit.set_layer_config(project, layer, config)
        except ProjectError as err:
            self.refuse(key, self.plain(err))
            return
        self.accept(key, project)

    def _commit_config(self, layer: str, key: str, change) -> None:
        project = state.get_project()
        lay = find_layer(project, layer)
        if lay is None:
            return
        config = json.loads(json.dumps(lay.get("config", {})))
        change(config)
        try:
            project = edit.set_layer_config(project, layer, config)
        except ProjectError as err:
            self.refuse(key, self.plain(err))
            return
        self.accept(key, project)

    def on_wrapped_class(self, layer: str, spec: dict, key: str, path: tuple = ()) -> None:
        """A wrapper's inner layer changes class: it starts from that class' defaults.
        ``path`` names the wrapped layers between ``layer`` and this wrapper (a
        TimeDistributed(Bidirectional(LSTM)) edits its LSTM at path ("layer",))."""
        from builder import catalogue

        choice = st.session_state[key]

        def change(config):
            target = _inner_config(config, path)
            if choice == _NONE:
                target.pop(spec["name"], None)
            else:
                target[spec["name"]] = {
                    "class_name": choice,
                    "config": catalogue.default_config(choice),
                }

        self._commit_config(layer, key, change)

    def on_wrapped_param(
        self, layer: str, spec: dict, inner: dict, key: str, path: tuple = ()
    ) -> None:
        """One setting of a wrapper's inner layer, edited in place."""
        try:
            value = forms.widget_value(inner, key)
        except ValueError as err:
            self.refuse(key, str(err))
            return

        def change(config):
            inner_config = _inner_config(config, (*path, spec["name"]))
            if value is None and not inner.get("nullable") and inner.get("default") is None:
                inner_config.pop(inner["name"], None)
            else:
                inner_config[inner["name"]] = value

        self._commit_config(layer, key, change)

    def on_rename(self, layer: str, key: str, selected_key: str) -> None:
        new = st.session_state[key].strip()
        try:
            project = edit.rename_layer(state.get_project(), layer, new)
        except ProjectError as err:
            self.refuse(key, self.plain(err))
            return
        st.session_state[selected_key] = new
        self.accept(key, project)

    def on_input(self, name: str, key: str, dtype_key: str) -> None:
        try:
            shape = forms.from_text({"type": "shape"}, st.session_state[key])
            shape = shape if isinstance(shape, list) else [shape]
            if not shape or not all(d is None or (isinstance(d, int) and d > 0) for d in shape):
                raise ValueError(
                    "the shape is positive whole numbers separated by commas, "
                    "without the batch axis, e.g. 28, 28, 1."
                )
            project = edit.set_input(state.get_project(), name, shape, st.session_state[dtype_key])
        except (ValueError, ProjectError) as err:
            self.refuse(key, self.plain(err))
            return
        self.accept(key, project)

    # ---------------------------------------------------------------- widgets

    def param_widget(self, layer: str, config: dict, spec: dict) -> None:
        """One catalogue parameter of ``layer`` (key ``<prefix>_param:layer:name``)."""
        key = f"{self.prefix}_param:{layer}:{spec['name']}"
        value = config.get(spec["name"], spec.get("default", spec.get("example")))
        vary = None if spec.get("advanced") else layer_setting(layer, spec["name"])
        forms.param_widget(
            spec, value, key, self.errors(), self.on_param, (layer, spec, key), vary=vary
        )

    def params(self, layer: str, config: dict, entry: dict) -> None:
        """Every catalogue parameter of ``layer``: the common ones up front, the rest
        (initializers, regularizers, constraints, data_format, seeds, dtype, ...) in an
        "Advanced" expander, open when one of them is set or refused."""
        specs = entry["params"]
        front = [p for p in specs if not p.get("advanced")]
        advanced = [p for p in specs if p.get("advanced")]
        for spec in front:
            if spec["type"] == "layer":
                self.wrapped_widget(layer, config, spec)
            else:
                self.param_widget(layer, config, spec)
        if advanced:
            refused = any(k.startswith(f"{self.prefix}_param:{layer}:") for k in self.errors())
            is_set = [p["name"] for p in advanced if p["name"] in config]
            count = f", {len(is_set)} set" if is_set else ""
            title = f"Advanced ({len(advanced)} settings{count})"
            with st.expander(md(title), expanded=bool(is_set) or refused):
                for spec in advanced:
                    if spec["type"] == "layer":
                        self.wrapped_widget(layer, config, spec)
                    else:
                        self.param_widget(layer, config, spec)

    def wrapped_widget(self, layer: str, config: dict, spec: dict, path: tuple = ()) -> None:
        """A wrapped layer (Bidirectional's LSTM, TimeDistributed's Dense), edited in place:
        its class, its common settings, and behind a toggle its advanced ones (a toggle, as
        Streamlit nests no expanders); a wrapper inside it is drawn the same way, nested.
        ``config`` holds ``spec``; ``path`` names the wrappers between it and ``layer``."""
        from builder import catalogue

        value = config.get(spec["name"], spec.get("default", spec.get("example")))
        options = list(catalogue.LAYERS) if spec.get("allowed") == ["*"] else list(spec["allowed"])
        if spec.get("nullable"):
            options = [_NONE] + options
        current = value.get("class_name") if isinstance(value, dict) else _NONE
        if current not in options:
            options.append(current)
        where = ".".join((*path, spec["name"]))
        key = f"{self.prefix}_wrap:{layer}:{where}"
        self.sync(key, current)
        st.selectbox(
            spec.get("label", spec["name"]),
            options,
            key=key,
            on_change=self.on_wrapped_class,
            args=(layer, spec, key, path),
            help=f"{spec.get('help', '')}\n\nKeras argument: `{spec['name']}`",
        )
        self.field_error(key)
        if not isinstance(value, dict) or value.get("class_name") not in catalogue.LAYERS:
            return
        inner_entry = catalogue.get(value["class_name"])
        inner_config = value.get("config", {})
        if not isinstance(inner_config, dict):
            return
        front = [p for p in inner_entry["params"] if not p.get("advanced")]
        advanced = [p for p in inner_entry["params"] if p.get("advanced")]
        with st.container(border=True):
            for inner in front:
                self._wrapped_param(layer, spec, inner, inner_config, path, where)
            if not advanced:
                return
            prefix = f"{self.prefix}_param:{layer}:{where}."
            refused = any(k.startswith(prefix) for k in self.errors())
            is_set = [p["name"] for p in advanced if p["name"] in inner_config]
            count = f", {len(is_set)} set" if is_set else ""
            toggle = f"{self.prefix}_wrapadv:{layer}:{where}"
            if (is_set or refused) and toggle not in st.session_state:
                st.session_state[toggle] = True
            shown = st.toggle(
                f"Advanced settings of the wrapped {md(value['class_name'])} "
                f"({len(advanced)}{md(count)})",
                key=toggle,
            )
            if shown:
                for inner in advanced:
                    self._wrapped_param(layer, spec, inner, inner_config, path, where)

    def _wrapped_param(
        self, layer: str, spec: dict, inner: dict, inner_config: dict, path: tuple, where: str
    ) -> None:
        """One setting of a wrapped layer; a wrapper setting draws its own wrapped layer."""
        if inner["type"] == "layer":
            self.wrapped_widget(layer, inner_config, inner, (*path, spec["name"]))
            return
        ikey = f"{self.prefix}_param:{layer}:{where}.{inner['name']}"
        ivalue = inner_config.get(inner["name"], inner.get("default", inner.get("example")))
        forms.param_widget(
            inner,
            ivalue,
            ikey,
            self.errors(),
            self.on_wrapped_param,
            (layer, spec, inner, ikey, path),
        )

    def name_field(self, name: str, selected_key: str) -> None:
        """The layer's name; renaming it keeps it selected (``selected_key``)."""
        key = f"{self.prefix}_name:{name}"
        self.sync(key, name)
        st.text_input(
            "Name",
            key=key,
            on_change=self.on_rename,
            args=(name, key, selected_key),
            help="Letters, digits and underscores; used in exported code.",
        )
        self.field_error(key)

    def input_fields(self, inp: dict) -> None:
        """Shape and value type of the model input ``inp``."""
        name = inp["name"]
        key, dtype_key = f"{self.prefix}_input:{name}", f"{self.prefix}_input_dtype:{name}"
        self.sync(key, forms.to_text(inp["shape"]))
        st.session_state[dtype_key] = inp.get("dtype", "float32")
        st.text_input(
            f"Input '{name}' shape",
            key=key,
            on_change=self.on_input,
            args=(name, key, dtype_key),
            help="One sample's shape, without the batch axis: 784 for vectors, "
            "28, 28, 1 for grey images.",
        )
        self.field_error(key)
        st.selectbox(
            "Values",
            projectlib.INPUT_DTYPES,
            key=dtype_key,
            on_change=self.on_input,
            args=(name, key, dtype_key),
            help="float32 for numbers; int32 for token ids read by Embedding.",
        )


# ------------------------------------------------------------------ page toolbar


def undo_redo(undo_col, redo_col, prefix: str) -> None:
    """The Undo and Redo buttons (keys ``<prefix>_undo`` / ``<prefix>_redo``)."""
    undo_col.button(
        "Undo",
        on_click=state.undo,
        disabled=not state.can_undo(),
        key=f"{prefix}_undo",
        width="stretch",
    )
    redo_col.button(
        "Redo",
        on_click=state.redo,
        disabled=not state.can_redo(),
        key=f"{prefix}_redo",
        width="stretch",
    )


def menu_key(base: str) -> str:
    """The key of a popover menu that ``close_menu`` can close: a new key draws a new,
    closed popover (a popover that reruns on open to track its state would drop a click
    made while that rerun runs)."""
    return f"{base}:{st.session_state.get(f'_menu:{base}', 0)}"


def close_menu(key: str) -> None:
    base = key.rsplit(":", 1)[0]
    st.session_state[f"_menu:{base}"] = st.session_state.get(f"_menu:{base}", 0) + 1


def template_buttons(
    names, prefix: str, use: Callable[[str], None], menu_key: str | None = None
) -> None:
    """One button per template in ``names``; a click calls ``use(name)`` and closes the
    popover whose key is ``menu_key``. A template whose data is not cached says so."""
    from builder import templates
    from ui import data_status

    def pick(name: str) -> None:
        if menu_key:
            close_menu(menu_key)
        use(name)

    for name in names:
        title, description = templates.describe(name)
        note = data_status.template_note(templates.dataset(name))
        st.button(
            md(title + note),
            on_click=pick,
            args=(name,),
            key=f"{prefix}_tpl:{name}",
            help=md(description) if description else None,
        )


def open_template(name: str, form: LayerForm, selected_key: str) -> None:
    """Open template ``name`` as a new project, nothing selected; the current project stays
    listed with its runs (a template never replaces it)."""
    from builder import templates

    st.session_state[selected_key] = None
    st.session_state[form.errors_key] = {}
    state.new_project(templates.load(name), f"Template '{templates.describe(name)[0]}'")


TEMPLATES_NOTE = "A template opens as a new project; this one stays in Projects with its runs."


def start_over(project: dict, form: LayerForm, selected_key: str) -> None:
    """Make ``project`` current with nothing selected and no refused values pending."""
    st.session_state[selected_key] = None
    st.session_state[form.errors_key] = {}
    state.set_project(project)
