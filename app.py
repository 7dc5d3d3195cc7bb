"""netbuilder: the frame of every page.

Navigation, the current project's name, dataset and validity, and New / Open / Save.

The first paint comes first. Keras is imported in a background thread (``ui.preload``);
the page list and the page's main part are drawn before anything else, and the rest of
the sidebar (recent projects, templates, open and save) fills its place after the page.
A page that needs Keras for part of its content ends with ``preload.await_keras()``,
which reruns it once Keras is there.
"""

from __future__ import annotations

import streamlit as st
import streamlit.delta_generator

from ui import preload

# Before a process's first element Streamlit checks whether it runs under `streamlit run`,
# to print a warning when not; the check walks the stack with inspect.stack(), which reads
# the source file of every module loaded: 50-80 ms of the first paint. This file always
# runs under `streamlit run` (or AppTest), so the check is marked as done.
streamlit.delta_generator._use_warning_has_been_displayed = True

preload.start()  # Keras, in a background thread, once per server process: see ui.preload

st.set_page_config(page_title="netbuilder", layout="wide")


PAGES = [
    ("pages/build.py", "Build"),
    ("pages/graph.py", "Graph"),
    ("pages/data.py", "Data"),
    ("pages/train.py", "Train"),
    ("pages/experiments.py", "Experiments"),
    ("pages/results.py", "Results"),
    ("pages/compare.py", "Compare"),
]

pages = [st.Page(path, title=title) for path, title in PAGES]
# The page list is drawn here, not by Streamlit: with client.showSidebarNavigation off
# (.streamlit/config.toml) the first paint no longer flashes the raw `pages/` file list.
current_page = st.navigation(pages, position="hidden")
with st.sidebar:
    with st.container(key="nb_nav"):
        for page in pages:
            st.page_link(page)
    name_area = st.container()
    st.session_state["_status_slot"] = st.empty()  # the page reports validity here
    more_area = st.container()

from ui import state

state.init()


def _rename() -> None:
    state.rename(st.session_state.get("_name", ""))


def _open(pid: str) -> None:
    st.session_state.pop("_confirm_delete", None)
    state.open_project(pid)


def _delete(pid: str) -> None:
    st.session_state.pop("_confirm_delete", None)
    state.delete_project(pid)


def _recent_projects(current: str) -> None:
    """The autosaved projects, newest first: open one (with its runs), or delete it."""
    from builder import recent

    summaries = state.recent_projects()
    others = [s for s in summaries if s.pid != current]
    with st.expander(f"Recent projects ({len(others)})" if others else "Recent projects"):
        if not others:
            st.caption(
                "Projects you start (New project, a template, Open) are kept here with their runs."
            )
        asked = st.session_state.get("_confirm_delete")
        for s in summaries:
            runs = f"{s.runs} run{'s' if s.runs != 1 else ''}"
            if s.pid == asked:
                st.warning(f"Delete '{s.name}' and its {runs}?")
                yes, no = st.columns(2)
                yes.button(
                    "Delete",
                    key=f"_del_yes:{s.pid}",
                    on_click=_delete,
                    args=(s.pid,),
                    type="primary",
                )
                no.button(
                    "Keep",
                    key=f"_del_no:{s.pid}",
                    on_click=lambda: st.session_state.pop("_confirm_delete", None),
                )
                continue
            if s.pid == current:
                st.markdown(f"**{s.name}** (open)")
            else:
                st.button(
                    s.name,
                    key=f"_open:{s.pid}",
                    on_click=_open,
                    args=(s.pid,),
                    disabled=s.problem is not None,
                    width="stretch",
                    help=s.problem or f"Open '{s.name}' with its {runs}",
                )
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.caption(f"{s.dataset} · {recent.age_text(s.modified)} · {runs}")
            right.button(
                ":material/delete:",
                key=f"_del:{s.pid}",
                type="tertiary",
                help="Delete this project and its runs",
                on_click=lambda pid=s.pid: st.session_state.update(_confirm_delete=pid),
            )


def _sidebar(project: dict) -> None:
    from builder import recent, templates
    from builder.project import ProjectError, dumps
    from ui import data_status
    from ui.files import open_upload

    with name_area:
        st.session_state["_name"] = project.get("name") or "Untitled"
        st.text_input(
            "Project name",
            key="_name",
            on_change=_rename,
            help="Until you name it, the name follows the data.",
        )
        st.caption(f"Data: {recent.data_label(project.get('data'))}")
    with more_area:
        _recent_projects(state.session_id())
        with st.expander("New / Open / Save"):
            st.selectbox(
                "New from template",
                templates.names(),
                format_func=lambda n: (
                    templates.describe(n)[0] + data_status.template_note(templates.dataset(n))
                ),
                key="_new_tpl",
            )
            st.button(
                "New project",
                key="_new_btn",
                on_click=lambda: state.new_project(templates.load(st.session_state["_new_tpl"])),
            )
            upload = st.file_uploader(
                "Open a project file, or import a Keras model (JSON or .keras)",
                type=["json", "keras"],
                key="_open",
            )
            if upload is not None and st.session_state.get("_opened") != upload.file_id:
                try:
                    opened, notes = open_upload(upload.name, upload.getvalue())
                    state.new_project(opened)
                    st.session_state["_opened"] = upload.file_id
                    if notes:
                        st.session_state["_notice"] = "Imported; not kept: " + "; ".join(notes)
                    st.rerun()
                except ProjectError as err:
                    st.error(
                        f"This file cannot be opened; your current project is unchanged.\n\n{err}"
                    )
            st.download_button(
                "Save project",
                dumps(project),
                key="_save",
                file_name=f"{(project.get('name') or 'project')[:40]}.json",
                mime="application/json",
            )


message = state.notice()
if message:
    st.toast(message)

# While Keras loads after the first paint, a page that shows shapes waits for it at its
# end: the rest of the sidebar is drawn before the page then, so that it is there meanwhile.
sidebar_first = preload.was_painted() and not preload.ready()
if not sidebar_first:
    current_page.run()
from ui import jobs

jobs.startup()  # once per server: reconcile runs left "running", prune old files
_sidebar(state.get_project())
if sidebar_first:
    current_page.run()
late = state.notice()  # set while the page ran (an edit moved the autosave, a run deleted)
if late:
    st.toast(late)
if not preload.awaited():
    preload.painted()  # this page shows no shapes: the import need not wait for it
