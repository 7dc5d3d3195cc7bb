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

from ui import frame, preload
from ui.text import md

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


_PROJECTS_OPEN = "_projects_open"


def _projects_toggled() -> None:
    st.session_state[_PROJECTS_OPEN] = bool(st.session_state.get("nb_projects"))


def _projects(current: str) -> None:
    """Every project with an autosave or a run: find one by name, sort by last change or
    last run, open one (with its runs), or delete it (asked first, undone for a while)."""
    from builder import recent

    every = state.projects()
    # Keyed, with its open state kept apart from the widget's: the count in the label
    # changes as projects come and go, and an open list stays open across that and pages.
    with st.expander(
        f"Projects ({len(every)})",
        expanded=st.session_state.get(_PROJECTS_OPEN, False),
        key="nb_projects",
        on_change=_projects_toggled,
    ):
        gone = state.deleted()
        if gone:
            left, right = st.columns([3, 2], vertical_alignment="center")
            left.caption(f"Deleted '{md(gone['name'])}'.")
            right.button("Undo delete", key="_undo_delete", on_click=state.undo_delete)
        if len(every) > 1:
            st.text_input("Find a project", key="_find", placeholder="name or data")
            st.radio(
                "Sort by",
                list(recent.SORTS),
                format_func=recent.SORTS.get,
                key="_sort",
                horizontal=True,
            )
        summaries = recent.find(
            every, st.session_state.get("_find", ""), st.session_state.get("_sort", "changed")
        )
        if len(summaries) < len(every):
            st.caption(f"{len(summaries)} of {len(every)} projects match.")
        if len(every) <= 1:
            st.caption(
                "Every project you start (New project, a template, Open, a trial opened) is "
                "kept here with its runs."
            )
        asked = st.session_state.get("_confirm_delete")
        for s in summaries:
            runs = f"{s.runs} run{'s' if s.runs != 1 else ''}"
            if s.pid == asked:
                st.warning(f"Delete '{md(s.name)}' and its {md(runs)}?")
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
                st.markdown(f"**{md(s.name)}** (open)")
            else:
                st.button(
                    md(s.name),
                    key=f"_open:{s.pid}",
                    on_click=_open,
                    args=(s.pid,),
                    disabled=s.problem is not None,
                    width="stretch",
                    help=md(s.problem or f"Open '{s.name}' with its {runs}"),
                )
            left, right = st.columns([5, 1], vertical_alignment="center")
            when = recent.age_text(s.modified)
            if s.last_run is not None and st.session_state.get("_sort") == "run":
                when = f"last run {recent.age_text(s.last_run)}"
            left.caption(f"{md(s.dataset)} · {md(when)} · {md(runs)}")
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
        st.caption(f"Data: {md(recent.data_label(project.get('data')))}")
    with more_area:
        _projects(state.session_id())
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
                on_click=lambda: state.new_project(
                    templates.load(st.session_state["_new_tpl"]),
                    f"Template '{templates.describe(st.session_state['_new_tpl'])[0]}'",
                ),
            )
            upload = st.file_uploader(
                "Open a project file, or import a Keras model (JSON or .keras)",
                type=["json", "keras"],
                key="_open",
            )
            if upload is not None and st.session_state.get("_opened") != upload.file_id:
                try:
                    opened, notes = open_upload(upload.name, upload.getvalue())
                    state.new_project(opened, f"'{upload.name}'")
                    st.session_state["_opened"] = upload.file_id
                    if notes:
                        st.session_state["_notice"] += " Imported; not kept: " + "; ".join(notes)
                    st.rerun()
                except ProjectError as err:
                    st.error(
                        "This file cannot be opened; your current project is unchanged."
                        f"\n\n{md(err)}"
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
    st.toast(md(message))

# While Keras loads after the first paint, a page that shows shapes waits for it at its
# end: the rest of the sidebar is drawn before the page then, so that it is there meanwhile.
sidebar_first = preload.was_painted() and not preload.ready()
if not sidebar_first:
    frame.run(current_page)
from ui import jobs

jobs.startup()  # once per server: reconcile runs left "running", prune old files
if preload.ready():  # after the first paint: a training process waits, warm, for Start
    jobs.keep_warm(state.get_project())
_sidebar(state.get_project())
if sidebar_first:
    frame.run(current_page)
late = state.notice()  # set while the page ran (an edit moved the autosave, a run deleted)
if late:
    st.toast(md(late))
if not preload.awaited():
    preload.painted()  # this page shows no shapes: the import need not wait for it
