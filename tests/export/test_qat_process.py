"""`export qat_epochs=` fine-tunes in a child process: NNCF's PyTorch backend never loads in the caller's process.

The fine-tuning itself is tested in tests/export/qat_isolated.py (a pytest process of its own); these tests start
their own processes, so they run in the main suite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.export.export_cases import IMGSZ

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EXPORT_WITH_QAT = """
import json, sys
from yolo_attention.export import export_and_verify
[report] = export_and_verify(
    sys.argv[1], "openvino", imgsz={imgsz}, int8=True, data="pcb-mini.yaml", images=4, int8_compare=False,
    subset_size=8, qat_epochs=0.5,
)
# NNCF imports its torch modules to tell backends apart; fake quantisation compiles and loads its CPU kernels
extensions = sys.modules.get("nncf.torch.quantization.extensions")
kernels = extensions is not None and extensions.QuantizedFunctionsCPU._loaded_namespace is not None
with open("/proc/self/maps") as maps:
    mapped = "quantized_functions_cpu" in maps.read()
print("RESULT " + json.dumps({{**report.__dict__, "passed": report.passed, "kernels": [kernels, mapped]}}, default=str))
"""


def _python(script: str, *args, cwd, timeout=600) -> subprocess.CompletedProcess:
    env = {**os.environ, "YOLO_OFFLINE": "1"}
    cmd = [sys.executable, "-c", textwrap.dedent(script), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads the process's mapped libraries (Linux)")
def test_int8_export_with_qat_fine_tunes_in_a_child_and_exports_its_weights(trained_cbam, tmp_path):
    pytest.importorskip("nncf")
    import shutil

    import torch
    from ultralytics import YOLO

    weights = tmp_path / "w" / "best.pt"
    weights.parent.mkdir()
    shutil.copy(trained_cbam, weights)
    run = _python(EXPORT_WITH_QAT.format(imgsz=IMGSZ), weights, cwd=tmp_path)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert run.returncode == 0 and lines, run.stdout[-4000:] + run.stderr[-4000:]
    report = json.loads(lines[-1].removeprefix("RESULT "))
    assert report["error"] is None and report["passed"], report

    assert report["kernels"] == [False, False]  # the exporting process never loaded NNCF's fake-quantisation kernels
    assert "QAT step" in run.stdout + run.stderr  # the child's progress reaches the user

    checkpoint = weights.parent / "best_qat.pt"  # no out_dir: beside the checkpoint
    assert report["artifact"] == str(weights.parent / "best_qat_int8_openvino_model")
    assert any(f"exported from {checkpoint}" in note for note in report["notes"]), report["notes"]
    assert any("fine-tuned model's own mAP50" in note for note in report["notes"]), report["notes"]
    tuned = YOLO(str(checkpoint)).model.state_dict()
    source = YOLO(str(trained_cbam)).model.float().fuse().state_dict()
    assert not torch.equal(tuned["model.0.conv.weight"], source["model.0.conv.weight"].half().float())
    assert report["ref_map50"] is not None  # judged against the original model's mAP


def test_child_errors_are_raised_in_the_caller_as_they_were(trained_cbam, tmp_path):
    from yolo_attention.export.qat_process import QATProcessError, fine_tune_in_child

    with pytest.raises(ValueError, match=r"nc=80\) was not built for 'faces-synthetic.yaml'"):
        fine_tune_in_child("yolov8n-eca.yaml", "faces-synthetic.yaml", tmp_path / "x.pt", IMGSZ, workers=0)
    with pytest.raises(FileNotFoundError, match="'no-such-data.yaml' does not exist"):
        fine_tune_in_child(trained_cbam, "no-such-data.yaml", tmp_path / "x.pt", IMGSZ, workers=0)
    no_train = tmp_path / "no-train.yaml"
    no_train.write_text("path: .\nval: images\nnames: {0: a}\n")
    with pytest.raises(SyntaxError, match="'train:' key missing"):  # Ultralytics' kind for a broken dataset YAML
        fine_tune_in_child(trained_cbam, str(no_train), tmp_path / "x.pt", IMGSZ, workers=0)
    with pytest.raises(TypeError):  # a subclass or a user-error kind comes back as that kind (CLI: one line)
        fine_tune_in_child(trained_cbam, "pcb-mini.yaml", tmp_path / "x.pt", IMGSZ, workers="two")
    assert not (tmp_path / "x.pt").exists()
    folder = tmp_path / "a-folder.pt"
    folder.mkdir()  # anything else (here: saving over a folder, after training) is a QATProcessError
    with pytest.raises(QATProcessError, match=r"failed \(RuntimeError: .*Is a directory\); its output is above"):
        fine_tune_in_child(trained_cbam, "pcb-mini.yaml", folder, IMGSZ, 0.1, subset_size=8, workers=0)


def test_a_model_with_a_class_from_main_is_fine_tuned_in_this_process(monkeypatch, tmp_path):
    """Another interpreter cannot unpickle a class defined in a notebook: that model stays here, with a warning."""
    import torch
    from ultralytics import YOLO

    import yolo_attention.export.qat as qat
    from yolo_attention.export.qat_process import fine_tune_in_child, main_module_classes

    class Scaled(torch.nn.Module):
        def forward(self, x):
            return x

    Scaled.__module__ = "__main__"
    yolo = YOLO("yolov8n.yaml")
    assert main_module_classes(yolo) == []
    yolo.model.model[0].add_module("local", Scaled())
    assert main_module_classes(yolo) == ["Scaled"]

    calls = []
    monkeypatch.setattr(qat, "qat_fine_tune", lambda model, *args, **kwargs: calls.append(model) or tmp_path / "x.pt")
    assert fine_tune_in_child(yolo, "pcb-mini.yaml", tmp_path / "x.pt", IMGSZ) == tmp_path / "x.pt"
    assert calls == [yolo]  # the very object, in this process


INTERRUPTED = """
import sys
from yolo_attention.export.qat_process import fine_tune_in_child
fine_tune_in_child(sys.argv[1], "pcb-mini.yaml", sys.argv[2], {imgsz}, epochs=50, subset_size=8, workers=0)
"""


def test_interrupting_the_caller_stops_the_fine_tuning_process(trained_cbam, tmp_path):
    """Ctrl-C in the caller (SIGINT to it alone) ends the child too, instead of leaving it training with no reader."""
    pytest.importorskip("nncf")
    import psutil

    script = textwrap.dedent(INTERRUPTED.format(imgsz=IMGSZ))
    cmd = [sys.executable, "-c", script, str(trained_cbam), str(tmp_path / "x.pt")]
    env = {**os.environ, "YOLO_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    caller = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path, env=env)
    seen, child = [], None
    try:
        for line in caller.stdout:  # wait until the child trains
            seen.append(line)
            if "yolo-attention QAT:" in line:
                break
        children = psutil.Process(caller.pid).children()
        assert len(children) == 1, "".join(seen[-30:])
        child = children[0]
        caller.send_signal(signal.SIGINT)
        caller.stdout.read()
        assert caller.wait(timeout=60) != 0
        deadline = time.time() + 30
        while child.is_running() and child.status() != psutil.STATUS_ZOMBIE and time.time() < deadline:
            time.sleep(0.5)
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, "the child trains on"
    finally:
        if child is not None and child.is_running():
            child.kill()
        caller.kill()
    assert not (tmp_path / "x.pt").exists()
