"""The command line, run as a user runs it (a subprocess), plus in-process checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.cli import main
from cnnviz.core.samples import load_samples

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "cnnviz", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def test_main_py_and_module_agree():
    a = subprocess.run([sys.executable, "main.py", "summary", "lecture-keras"], capture_output=True,
                       text=True, cwd=ROOT)
    b = run_cli("summary", "lecture-keras")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and "Total parameters: 53,578" in a.stdout


def test_summary_of_shipped_weights(capsys):
    from cnnviz.core.weights import shipped_weights_path

    assert main(["summary", "--weights", str(shipped_weights_path("cnnviz"))]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "32x26x26" in out and "Total parameters: 198,122" in out


def test_unknown_architecture_is_one_line(capsys):
    assert main(["summary", "resnet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown architecture 'resnet'" in err


def test_evaluate_json(mnist_test):
    out = run_cli("evaluate", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    xt, yt = mnist_test
    assert data["count"] == 10000 and data["accuracy"] >= 0.995
    conf = np.array(data["confusion"])
    np.testing.assert_array_equal(conf.sum(1), np.bincount(yt, minlength=10))


def test_evaluate_missing_data_message(tmp_path):
    out = run_cli("evaluate", "--data-dir", str(tmp_path))
    assert out.returncode == 1
    assert "cnnviz data download" in out.stderr and "Traceback" not in out.stderr


def test_train_tiny_run_and_resume_safe_output(tmp_path, mnist_test):
    target = tmp_path / "tiny.safetensors"
    out = run_cli("train", "--arch", "lecture-keras", "--epochs", "1", "--limit", "3000", "--batch-size", "64",
                  "--optimizer", "adam", "--lr", "0.002", "--schedule", "constant", "--no-augment",
                  "--out", str(target))
    assert out.returncode == 0, out.stderr
    assert "epoch   1/1" in out.stdout and target.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.safetensors"]  # no temp files left
    ev = run_cli("evaluate", "--weights", str(target), "--json")
    acc = json.loads(ev.stdout)["accuracy"]
    assert acc > 0.8


def test_train_bad_arguments(tmp_path):
    out = run_cli("train", "--epochs", "0", "--out", str(tmp_path / "x.safetensors"))
    assert out.returncode == 1 and "at least 1" in out.stderr
    out = run_cli("train", "--out", str(tmp_path / "x.pt"))
    assert out.returncode == 1 and ".safetensors" in out.stderr


def _digit_png(path, index, dark_on_light=False, scale=1):
    images, labels, _ = load_samples()
    img = images[index]
    if dark_on_light:
        img = 255 - img
    Image.fromarray(img).resize((28 * scale, 28 * scale), Image.BILINEAR).save(path)
    return int(labels[index])


def test_predict_json_with_good_and_bad_files(tmp_path):
    a = tmp_path / "a.png"
    b = tmp_path / "b.jpg"
    want_a = _digit_png(a, 0)
    want_b = _digit_png(b, 57, dark_on_light=True, scale=9)  # big, dark ink on white paper
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = run_cli("predict", str(a), str(b), str(bad), "--json")
    assert out.returncode != 0  # one file was unreadable
    data = json.loads(out.stdout)
    assert [d["file"] for d in data] == [str(a), str(b), str(bad)]
    assert data[0]["prediction"] == want_a and data[1]["prediction"] == want_b
    assert len(data[0]["probabilities"]) == 10 and abs(sum(data[0]["probabilities"]) - 1) < 1e-3
    assert "error" in data[2] and "prediction" not in data[2]


def test_predict_text_output(tmp_path):
    a = tmp_path / "digit.png"
    want = _digit_png(a, 3)
    out = run_cli("predict", str(a))
    assert out.returncode == 0
    assert out.stdout.startswith(f"{a}: {want}")


def test_kernels_lists_lecture_presets():
    out = run_cli("kernels")
    assert out.returncode == 0
    for name in ("Identity", "Sharpen", "Box blur", "Gaussian blur", "Sobel"):
        assert name.lower() in out.stdout.lower()


def test_filter_npy_matches_torch(tmp_path):
    import torch

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "in.png")
    out = run_cli("filter", str(tmp_path / "in.png"), "--kernel", "0 -1 0; -1 5 -1; 0 -1 0",
                  "--stride", "1", "--padding", "1", "--activation", "relu", "--pool", "max:2:2",
                  "-o", str(tmp_path / "out.npy"))
    assert out.returncode == 0, out.stderr
    got = np.load(tmp_path / "out.npy")
    x = torch.tensor(img, dtype=torch.float64)[None, None]
    k = torch.tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=torch.float64)[None, None]
    ref = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(x, k, padding=1)), 2, 2)
    np.testing.assert_allclose(got, ref[0, 0].numpy(), rtol=1e-6)


def test_filter_colour_png_and_per_channel(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    out = run_cli("filter", str(tmp_path / "c.png"), "--kernel", "box-blur", "--per-channel",
                  "-o", str(tmp_path / "o.npy"))
    assert out.returncode == 0, out.stderr
    got = np.load(tmp_path / "o.npy")
    assert got.shape == (14, 14, 3)
    np.testing.assert_allclose(got[0, 0], rgb[:3, :3].reshape(9, 3).mean(0), rtol=1e-5)
    out = run_cli("filter", str(tmp_path / "c.png"), "--kernel", "sharpen", "-o", str(tmp_path / "o.png"))
    assert out.returncode == 0 and Image.open(tmp_path / "o.png").size == (14, 14)


@pytest.mark.parametrize("args, words", [
    (["--kernel", "1 2; 3"], "row 2"),
    (["--kernel", "a b c"], "not a number"),
    (["--kernel", "nosuchpreset"], "preset"),
    (["--kernel", "sharpen", "--stride", "2"], "whole number"),
    (["--kernel", "sharpen", "--stride", "zero"], "--stride"),
    (["--kernel", "sharpen", "--pool", "max:x"], "--pool"),
    (["--kernel", "sharpen", "--activation", "swish"], "swish"),
])
def test_filter_bad_arguments_one_clear_line(tmp_path, args, words):
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "z.png")
    out = run_cli("filter", str(tmp_path / "z.png"), *args, "-o", str(tmp_path / "o.npy"))
    assert out.returncode == 1, out.stdout
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert words.lower() in out.stderr.lower()


def test_filter_unreadable_image(tmp_path):
    (tmp_path / "x.png").write_bytes(b"")
    out = run_cli("filter", str(tmp_path / "x.png"), "--kernel", "sharpen", "-o", str(tmp_path / "o.npy"))
    assert out.returncode == 1 and "Traceback" not in out.stderr


def test_data_where_and_verify(tmp_path):
    out = run_cli("data", "where", "--data-dir", str(tmp_path))
    assert out.stdout.strip() == str(tmp_path / "mnist")
    out = run_cli("data", "verify", "--data-dir", str(tmp_path))
    assert out.returncode == 1 and "missing file" in out.stdout


def test_ctrl_c_keeps_last_complete_epoch(tmp_path, mnist_test):
    import signal
    import time

    from cnnviz.core.weights import load_weights

    target = tmp_path / "stop.safetensors"
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "train", "--arch", "lecture-keras",
                             "--epochs", "50", "--limit", "1500", "--out", str(target)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not target.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)  # waiting for the first epoch's file to appear, not for a result
        assert target.exists(), "no epoch finished"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Kept epoch" in err and "Traceback" not in err
    card = load_weights(target).card
    assert 1 <= card["epochs"] < 50
    assert [p.name for p in tmp_path.iterdir()] == ["stop.safetensors"]
