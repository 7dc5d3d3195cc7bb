"""Devices: what TensorFlow sees, why there is no GPU, and pinning a run to the CPU.

GPU paths (MirroredStrategy, mixed precision on a GPU) need a GPU and are not run here.
"""

import os

import pytest

from builder.training import devices


@pytest.mark.parametrize(
    "report, words",
    [
        ({"devices": [], "built_with_cuda": False}, "has no CUDA support"),
        (
            {"devices": [], "built_with_cuda": True, "cuda_visible_devices": "-1"},
            "CUDA_VISIBLE_DEVICES='-1' hides every GPU",
        ),
        (
            {"devices": [], "built_with_cuda": True, "cuda_visible_devices": None},
            "no NVIDIA driver is loaded or no GPU is installed",
        ),
        ({"devices": [], "error": "TimeoutExpired: 120 s"}, "the device check failed"),
    ],
)
def test_gpu_note_says_why_there_is_no_gpu(report, words):
    note = devices.gpu_note(report)
    assert note.startswith("No GPU") and words in note


def test_gpu_note_is_none_with_a_gpu():
    assert devices.gpu_note({"devices": [{"id": "gpu:0", "kind": "GPU"}]}) is None


def test_list_devices_runs_in_a_child_process():
    report = devices.list_devices()
    assert report["devices"][0] == {"id": "cpu", "kind": "CPU", "name": "CPU"}
    assert "tensorflow" in report, report.get("error")
    gpus = [d for d in report["devices"] if d["kind"] == "GPU"]
    assert (report["gpu_note"] is None) == bool(gpus)


@pytest.mark.parametrize("choice", ["auto", "cpu", "gpu", "gpu:0", "gpu:0,1"])
def test_valid_choices(choice):
    assert devices.check_choice(choice) == choice


@pytest.mark.parametrize("choice", ["tpu", "gpu:", "GPU", "gpu:a", "", None])
def test_invalid_choices(choice):
    with pytest.raises(devices.DeviceError, match="not a choice"):
        devices.check_choice(choice)


def test_gpu_choice_without_gpu_says_why():
    report = {"devices": [{"id": "cpu", "kind": "CPU"}], "built_with_cuda": False}
    report["gpu_note"] = devices.gpu_note(report)
    with pytest.raises(devices.DeviceError, match=r"has no CUDA support.*Choose 'cpu'"):
        devices.check_choice("gpu", report)


@pytest.mark.parametrize("choice, visible", [("cpu", "-1"), ("gpu:1,2", "1,2"), ("auto", None)])
def test_choice_pins_cuda_visible_devices(monkeypatch, choice, visible):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    devices.apply_choice_env(choice)
    assert os.environ.get("CUDA_VISIBLE_DEVICES") == visible
