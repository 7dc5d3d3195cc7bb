"""Which devices TensorFlow can train on, and how a run is pinned to one of them.

``list_devices()`` asks a separate Python process (``python -m builder.training.devices``)
so the caller never imports TensorFlow nor initialises CUDA itself: the app stays light and
a later ``CUDA_VISIBLE_DEVICES`` choice in a training process is still honoured.

Device choices (strings, as the UI and the CLI pass them):

- ``"auto"``: every GPU TensorFlow sees, else the CPU;
- ``"cpu"``: the CPU only (GPUs hidden with ``CUDA_VISIBLE_DEVICES=-1`` before TF loads);
- ``"gpu"``: all visible GPUs (several -> ``tf.distribute.MirroredStrategy``);
- ``"gpu:0"`` / ``"gpu:0,1"``: those GPUs only.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys

_CHOICE_RE = re.compile(r"\A(auto|cpu|gpu|gpu:\d+(,\d+)*)\Z")


class DeviceError(ValueError):
    """A device choice that is malformed or names a GPU that is not there."""


def _probe() -> dict:
    """Run inside the probing process: import TF and describe what it sees."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    built = bool(tf.test.is_built_with_cuda())
    devices = [{"id": "cpu", "kind": "CPU", "name": "CPU"}]
    for index, gpu in enumerate(tf.config.list_physical_devices("GPU")):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except (ValueError, RuntimeError):
            details = {}
        devices.append(
            {
                "id": f"gpu:{index}",
                "kind": "GPU",
                "name": details.get("device_name", gpu.name),
                "compute_capability": details.get("compute_capability"),
            }
        )
    return {
        "devices": devices,
        "built_with_cuda": built,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "tensorflow": tf.__version__,
    }


def gpu_note(report: dict) -> str | None:
    """Why no GPU is listed, in plain words; ``None`` when at least one GPU is visible."""
    if any(d["kind"] == "GPU" for d in report.get("devices", [])):
        return None
    if report.get("error"):
        return f"No GPU: the device check failed ({report['error']}); training uses the CPU."
    if not report.get("built_with_cuda"):
        return (
            "No GPU: this TensorFlow build has no CUDA support (a CPU-only or macOS "
            "build), so it can only use the CPU. On Linux with an NVIDIA card, install "
            "'tensorflow[and-cuda]' to train on the GPU."
        )
    hidden = report.get("cuda_visible_devices")
    if hidden is not None and hidden.strip() in ("", "-1"):
        return (
            f"No GPU: CUDA_VISIBLE_DEVICES={hidden!r} hides every GPU from TensorFlow; "
            "unset it to use a GPU."
        )
    return (
        "No GPU: TensorFlow supports CUDA but found no usable GPU: no NVIDIA driver is "
        "loaded or no GPU is installed (check 'nvidia-smi'). Training uses the CPU."
    )


@functools.lru_cache(maxsize=1)
def list_devices(timeout: float = 120.0) -> dict:
    """What TensorFlow sees, probed once per app process in a child Python.

    Returns ``{"devices": [{"id": "cpu"|"gpu:N", "kind": "CPU"|"GPU", "name", ...}],
    "built_with_cuda": bool, "tensorflow": version, "gpu_note": str|None}``. The CPU is
    always listed; if probing fails the report says so in ``gpu_note`` instead of raising.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "builder.training.devices"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        )
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as err:
        report = {
            "devices": [{"id": "cpu", "kind": "CPU", "name": "CPU"}],
            "built_with_cuda": False,
            "error": f"{type(err).__name__}: {err}",
        }
    report["gpu_note"] = gpu_note(report)
    return report


def check_choice(choice: str, report: dict | None = None) -> str:
    """Validate a device choice (and, given a report, that its GPUs exist); return it."""
    if not isinstance(choice, str) or not _CHOICE_RE.fullmatch(choice):
        raise DeviceError(f"device {choice!r} is not a choice: use auto, cpu, gpu or gpu:0,1.")
    if report is not None and choice.startswith("gpu"):
        gpus = [d["id"] for d in report["devices"] if d["kind"] == "GPU"]
        if not gpus:
            raise DeviceError(
                f"device {choice!r} asks for a GPU. {report.get('gpu_note') or ''}"
                " Choose 'cpu' or 'auto'.".strip()
            )
        for index in choice.split(":", 1)[1].split(",") if ":" in choice else []:
            if f"gpu:{index}" not in gpus:
                raise DeviceError(f"GPU {index} is not there; visible: {', '.join(gpus)}.")
    return choice


def apply_choice_env(choice: str) -> None:
    """Pin this process to ``choice`` via CUDA_VISIBLE_DEVICES. Call before TF is imported."""
    check_choice(choice)
    if choice == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    elif choice.startswith("gpu:"):
        os.environ["CUDA_VISIBLE_DEVICES"] = choice.split(":", 1)[1]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def training_setup(choice: str, mixed_precision: bool = False) -> dict:
    """After TF is imported in the training process: strategy and precision for ``choice``.

    Returns ``{"label": "CPU"|"GPU 0 (name)"|"2 GPUs (MirroredStrategy)", "strategy": a
    tf.distribute strategy or None, "mixed_precision": bool, "note": str|None}``.
    """
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU") if choice != "cpu" else []
    note = None
    if choice.startswith("gpu") and not gpus:
        raise DeviceError(
            "a GPU was chosen but TensorFlow sees none in the training process; choose 'cpu'."
        )
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (ValueError, RuntimeError):
            pass  # already initialised: growth cannot change any more, training still works
    strategy = None
    if len(gpus) > 1:
        strategy = tf.distribute.MirroredStrategy()
        label = f"{len(gpus)} GPUs (MirroredStrategy)"
    elif gpus:
        label = "GPU " + (os.environ.get("CUDA_VISIBLE_DEVICES") or "0").split(",")[0]
    else:
        label = "CPU"
    use_mixed = bool(mixed_precision and gpus)
    if mixed_precision and not gpus:
        note = "mixed precision is only used on a GPU; this run uses float32 on the CPU."
    keras.mixed_precision.set_global_policy("mixed_float16" if use_mixed else "float32")
    return {"label": label, "strategy": strategy, "mixed_precision": use_mixed, "note": note}


if __name__ == "__main__":
    print(json.dumps(_probe()))
