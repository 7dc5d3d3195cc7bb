"""Test harness: the stack editor alone, with a fixed view; prints each action it gets.

Run with ``streamlit run tests/browser/harness_stack.py``; the browser tests read
the lines "action: {...}" it writes.
"""

import json
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ui.stack_component import stack_editor

VIEW = {
    "inputs": [{"name": "pixels", "shape": "(None, 784)"}],
    "palette": [
        {
            "class_name": "Dense",
            "label": "Dense",
            "category": "core",
            "help": "Fully connected layer: every input feeds every unit.",
        },
        {
            "class_name": "Dropout",
            "label": "Dropout",
            "category": "regularization",
            "help": "Sets a random fraction of inputs to 0 during training.",
        },
        {
            "class_name": "Conv2D",
            "label": "Conv2D",
            "category": "convolution",
            "help": "2D convolution over images (height, width, channels).",
        },
        {
            "class_name": "Flatten",
            "label": "Flatten",
            "category": "reshaping",
            "help": "Flattens each sample to a vector.",
        },
    ],
    "categories": [
        {"id": "core", "label": "Core"},
        {"id": "convolution", "label": "Convolution"},
        {"id": "regularization", "label": "Normalization and regularization"},
        {"id": "reshaping", "label": "Reshaping"},
    ],
    "layers": [
        {
            "name": "d1",
            "class_name": "Dense",
            "summary": "16 units, relu",
            "output_shape": "(None, 16)",
            "params": "12,560",
            "status": "ok",
            "error": None,
            "fixes": [],
            "warnings": [],
        },
        {
            "name": "c1",
            "class_name": "Conv2D",
            "summary": "32 filters, 3x3",
            "output_shape": None,
            "params": None,
            "status": "error",
            "error": "Conv2D 'c1' needs images (height, width, channels) but receives vectors of 16.",
            "fixes": [{"label": "Insert Reshape before it"}],
            "warnings": [],
        },
        {
            "name": "d2",
            "class_name": "Dense",
            "summary": "10 units, softmax",
            "output_shape": "(None, 10)",
            "params": "170",
            "status": "ok",
            "error": None,
            "fixes": [],
            "warnings": ["A very narrow layer: 10 units."],
        },
    ],
    "selected": "d1",
}

if "actions" not in st.session_state:
    st.session_state.actions = []

action = stack_editor(VIEW, key="stack")
if action is not None:
    st.session_state.actions.append(action)

st.subheader("Actions")
for received in st.session_state.actions:
    st.text("action: " + json.dumps(received, sort_keys=True))
