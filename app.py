"""netbuilder: the frame of every page.

Navigation, the current project's name, dataset and validity, and New / Open / Save. It
paints before TensorFlow is imported: nothing here touches Keras; pages import it lazily
after drawing what they can.
"""
from __future__ import annotations

import streamlit as st

from builder import templates
from builder.project import ProjectError, dumps
from ui import jobs, state
from ui.files import open_upload

st.set_page_config(page_title="netbuilder", layout="wide")

PAGES = [("pages/build.py", "Build"), ("pages/graph.py", "Graph"), ("pages/data.py", "Data"),
         ("pages/train.py", "Train"), ("pages/experiments.py", "Experiments"),
         ("pages/results.py", "Results"), ("pages/compare.py", "Compare")]

jobs.startup()  # once per server: reconcile runs left "running", prune old files
state.init()
project = state.get_project()

with st.sidebar:
    st.markdown(f"**{project.get('name') or 'Untitled'}**")
    st.caption(f"Data: {project.get('data', {}).get('dataset', '?')}")
    st.session_state["_status_slot"] = st.empty()
    with st.expander("New / Open / Save"):
        choice = st.selectbox("New from template", templates.names(),
                              format_func=lambda n: templates.describe(n)[0], key="_new_tpl")
        if st.button("New project", key="_new_btn"):
            state.set_project(templates.load(choice))
            st.rerun()
        upload = st.file_uploader("Open a project file, or import a Keras model (JSON or "
                                  ".keras)", type=["json", "keras"], key="_open")
        if upload is not None and st.session_state.get("_opened") != upload.file_id:
            try:
                opened, notes = open_upload(upload.name, upload.getvalue())
                state.set_project(opened)
                st.session_state["_opened"] = upload.file_id
                if notes:
                    st.session_state["_notice"] = "Imported; not kept: " + "; ".join(notes)
                st.rerun()
            except ProjectError as err:
                st.error(f"This file cannot be opened; your current project is unchanged.\n\n{err}")
        st.download_button("Save project", dumps(project), key="_save",
                           file_name=f"{(project.get('name') or 'project')[:40]}.json",
                           mime="application/json")

message = state.notice()
if message:
    st.toast(message)

pages = [st.Page(path, title=title) for path, title in PAGES]
st.navigation(pages).run()
late = state.notice()  # set while the page ran (an edit moved the autosave, a run deleted)
if late:
    st.toast(late)
