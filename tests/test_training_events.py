"""builder.training.events: what a real run emits has exactly the keys its TypedDict names.

mypy checks the worker's event literals against ``events``; this checks the events a run
really puts out (a single run with a validation split, and parallel and sequential K-fold),
so a key added to or dropped from an event without its type fails here.
"""

from __future__ import annotations

import typing

import pytest

from builder.training import events, runs, worker
from tests.test_training_resume import _data, _project

_TYPES = {
    typing.get_type_hints(cls)["type"].__args__[0]: cls for cls in typing.get_args(events.Event)
}


def _check(emitted: list[dict]) -> set[str]:
    for event in emitted:
        cls = _TYPES[event["type"]]
        keys = set(event)
        assert cls.__required_keys__ <= keys, (event["type"], cls.__required_keys__ - keys)
        assert keys <= cls.__required_keys__ | cls.__optional_keys__, (
            event["type"],
            keys - cls.__required_keys__ - cls.__optional_keys__,
        )
    return {event["type"] for event in emitted}


def test_every_event_type_is_in_the_union():
    assert set(_TYPES) == {"status", "batch", "epoch", "summary"}


@pytest.mark.parametrize(
    "validation, parallel",
    [
        (None, True),  # a single run, validation split
        ({"method": "kfold", "k": 2}, True),  # folds side by side: batches with fold None
        ({"method": "kfold", "k": 2}, False),  # folds one after the other
    ],
)
def test_a_runs_events_have_their_types_keys(tmp_path, monkeypatch, validation, parallel):
    project = _project(epochs=2, validation=validation)
    folder = runs.create_run(tmp_path, "t", project, {})
    emitted: list[dict] = []
    monkeypatch.setattr(worker, "BATCH_EVENT_INTERVAL_S", 0.0)  # every batch emits
    summary = worker.train(
        project, folder, emitted.append, prepared=_data(), parallel_folds=parallel
    )
    assert summary["state"] == "finished", summary["message"]
    assert _check(emitted) == {"status", "batch", "epoch", "summary"}
    assert emitted[-1] is summary
