"""The command line. Most checks call cli.main([...]) in this process (what a subprocess
would run, without importing torch again for each); a real subprocess only where the
behaviour needs one: start-up, imports, signals."""

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from cnnviz.cli import main
from cnnviz.core.pictures.samples import load_samples

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, env_extra=None):
    """A real `python -m cnnviz` process (start-up, imports, signals)."""
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "cnnviz", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def run(capsys, *args):
    """cli.main(args) in this process: its exit code and what it printed."""
    capsys.readouterr()  # drop anything printed before
    code = main(list(args))
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def test_main_py_and_the_command_agree(capsys):
    a = subprocess.run([sys.executable, "main.py", "summary", "lecture-keras"], capture_output=True,
                       text=True, cwd=ROOT, timeout=300)
    b = run(capsys, "summary", "lecture-keras")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and "Total parameters: 53,578" in a.stdout


def test_python_m_cnnviz_starts():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("cnnviz ")


def test_importing_the_cli_does_not_import_torch_or_qt():
    # The window must show before torch loads (seconds): the CLI module and the GUI path up
    # to run_app import neither torch nor pyqtgraph; the commands that need torch import it.
    code = ("import sys, cnnviz.cli\n"
            "cnnviz.cli.build_parser().parse_args([])\n"
            "heavy = [m for m in ('torch', 'pyqtgraph', 'PySide6', 'numpy') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr


def test_summary_of_shipped_weights(capsys):
    from cnnviz.core.networks.weights import shipped_weights_path

    assert main(["summary", "--weights", str(shipped_weights_path("cnnviz"))]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "32x26x26" in out and "Total parameters: 198,122" in out


def test_unknown_architecture_is_one_line(capsys):
    assert main(["summary", "resnet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown architecture 'resnet'" in err


def test_evaluate_json(capsys, monkeypatch, mnist_test, shipped_mnist_evaluation):
    import cnnviz.core.training.loop as training

    # The 10,000-image evaluation runs once a session (conftest); here the command gets
    # that result and must pass the model and the whole test set to it, and print it.
    seen = []

    def once_a_session(model, x, y, **kwargs):
        seen.append((model.arch.name, len(x), len(y)))
        return shipped_mnist_evaluation

    monkeypatch.setattr(training, "evaluate", once_a_session)
    out = run(capsys, "evaluate", "--json")
    assert out.returncode == 0, out.stderr
    assert seen == [(seen[0][0], 10_000, 10_000)]
    data = json.loads(out.stdout)
    xt, yt = mnist_test
    assert data["count"] == 10000 and data["accuracy"] >= 0.995
    assert data["model"] == "cnnviz" and data["dataset"] == "mnist"
    conf = np.array(data["confusion"])
    np.testing.assert_array_equal(conf, np.asarray(shipped_mnist_evaluation["confusion"]))
    np.testing.assert_array_equal(conf.sum(1), np.bincount(yt, minlength=10))


def test_evaluate_missing_data_message(tmp_path, capsys):
    out = run(capsys, "evaluate", "--data-dir", str(tmp_path))
    assert out.returncode == 1
    assert "cnnviz data download" in out.stderr and "Traceback" not in out.stderr


def test_train_tiny_run_and_resume_safe_output(tmp_path, capsys, mnist_test):
    target = tmp_path / "tiny.safetensors"
    out = run(capsys, "train", "--arch", "lecture-keras", "--epochs", "1", "--limit", "3000", "--batch-size", "64",
                  "--optimizer", "adam", "--lr", "0.002", "--schedule", "constant", "--no-augment",
                  "--out", str(target))
    assert out.returncode == 0, out.stderr
    assert "epoch   1/1" in out.stdout and target.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.safetensors"]  # no temp files left
    # where the time went: each phase, adding up to no more than the whole
    done = re.search(r"Done in ([\d.]+) s since the command started: (.*)\. Test accuracy",
                     out.stdout)
    assert done, out.stdout
    phases = dict(re.findall(r"(start-up|reading the data|outlier pictures|1 epoch|"
                             r"calibrating the verdict|saving) ([\d.]+) s", done.group(2)))
    assert len(phases) == 6, done.group(2)
    assert sum(map(float, phases.values())) <= float(done.group(1)) + 0.3  # (each rounded)
    ev = run(capsys, "evaluate", "--weights", str(target), "--json")
    acc = json.loads(ev.stdout)["accuracy"]
    assert acc > 0.8


def test_train_bad_arguments(tmp_path, capsys):
    out = run(capsys, "train", "--epochs", "0", "--out", str(tmp_path / "x.safetensors"))
    assert out.returncode == 1 and "at least 1" in out.stderr
    out = run(capsys, "train", "--out", str(tmp_path / "x.pt"))
    assert out.returncode == 1 and ".safetensors" in out.stderr


def _digit_png(path, index, dark_on_light=False, scale=1):
    images, labels, _ = load_samples()
    img = images[index]
    if dark_on_light:
        img = 255 - img
    Image.fromarray(img).resize((28 * scale, 28 * scale), Image.BILINEAR).save(path)
    return int(labels[index])


def test_predict_json_with_good_and_bad_files(tmp_path, capsys):
    a = tmp_path / "a.png"
    b = tmp_path / "b.jpg"
    want_a = _digit_png(a, 0)
    want_b = _digit_png(b, 57, dark_on_light=True, scale=9)  # big, dark ink on white paper
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = run(capsys, "predict", str(a), str(b), str(bad), "--json")
    assert out.returncode != 0  # one file was unreadable
    data = json.loads(out.stdout)
    assert [d["file"] for d in data] == [str(a), str(b), str(bad)]
    assert data[0]["prediction"] == want_a and data[1]["prediction"] == want_b
    assert len(data[0]["probabilities"]) == 10 and abs(sum(data[0]["probabilities"]) - 1) < 1e-3
    assert "error" in data[2] and "prediction" not in data[2]


def test_predict_text_output(tmp_path, capsys):
    a = tmp_path / "digit.png"
    want = _digit_png(a, 3)
    out = run(capsys, "predict", str(a))
    assert out.returncode == 0
    assert out.stdout.startswith(f"{a}: {want}")
    # a softmax never reaches 100%: the top-3 says ">99.9%" / "<0.1%", as the app does
    assert "100.0%" not in out.stdout and " 0.0%" not in out.stdout


def test_kernels_lists_lecture_presets(capsys):
    out = run(capsys, "kernels")
    assert out.returncode == 0
    for name in ("Identity", "Sharpen", "Box blur", "Gaussian blur", "Sobel"):
        assert name.lower() in out.stdout.lower()


def test_kernels_shows_the_names_kernel_accepts(capsys):
    from cnnviz.core.convolution.kernels import ALIASES, PRESETS, kernel_from_text_or_preset

    assert main(["kernels"]) == 0
    out = capsys.readouterr().out
    heads = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    listed = [h for h in heads if h in PRESETS]
    assert listed == list(PRESETS)  # every preset, by the key --kernel takes, in order
    for key in listed:  # ... and each key really is accepted by --kernel
        np.testing.assert_array_equal(kernel_from_text_or_preset(key), PRESETS[key].values)
    for alias, key in ALIASES.items():  # aliases shown on their preset's line
        line = next(line for line in out.splitlines() if line.startswith(key + " "))
        assert alias in line, line


def test_filter_npy_matches_torch(tmp_path, capsys):
    import torch

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "in.png")
    out = run(capsys, "filter", str(tmp_path / "in.png"), "--kernel", "0 -1 0; -1 5 -1; 0 -1 0",
                  "--stride", "1", "--padding", "1", "--activation", "relu", "--pool", "max:2:2",
                  "-o", str(tmp_path / "out.npy"))
    assert out.returncode == 0, out.stderr
    got = np.load(tmp_path / "out.npy")
    x = torch.tensor(img, dtype=torch.float64)[None, None]
    k = torch.tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=torch.float64)[None, None]
    ref = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(x, k, padding=1)), 2, 2)
    np.testing.assert_allclose(got, ref[0, 0].numpy(), rtol=1e-6)


def test_filter_colour_png_and_per_channel(tmp_path, capsys):
    rgb = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    out = run(capsys, "filter", str(tmp_path / "c.png"), "--kernel", "box-blur", "--per-channel",
                  "-o", str(tmp_path / "o.npy"))
    assert out.returncode == 0, out.stderr
    got = np.load(tmp_path / "o.npy")
    assert got.shape == (14, 14, 3)
    np.testing.assert_allclose(got[0, 0], rgb[:3, :3].reshape(9, 3).mean(0), rtol=1e-5)
    out = run(capsys, "filter", str(tmp_path / "c.png"), "--kernel", "sharpen", "-o", str(tmp_path / "o.png"))
    assert out.returncode == 0 and Image.open(tmp_path / "o.png").size == (14, 14)


@pytest.mark.parametrize("args, words", [
    (["--kernel", "1 2; 3"], "row 2"),
    (["--kernel", "a b c"], "not a number"),
    (["--kernel", "nosuchpreset"], "preset"),
    (["--kernel", "sharpen", "--stride", "zero"], "--stride"),
    (["--kernel", "sharpen", "--pool", "max:x"], "--pool"),
    (["--kernel", "sharpen", "--activation", "mish"], "mish"),
    (["--kernel", "sharpen", "--pool", "max:2:2:7"], "--pool takes at most KIND:SIZE:STRIDE"),
    (["--kernel", "sharpen", "--pool", "max:0"], "pooling size must be at least 1 (got 0)"),
    (["--kernel", "sharpen", "--pool", "max:2:0"], "pooling stride must be at least 1 (got 0)"),
    (["--kernel", "sharpen", "--pool", ""], "--pool is empty"),
    (["--kernel", "sharpen", "--pool", "median:2"], "'median'"),
    (["--kernel", "sharpen", "--padding", "1000000"], "--padding may be at most 10,000 (got 1000000)"),
    (["--kernel", "sharpen", "--padding", "4000"], "8028×8028 = 64,448,784 pixels"),
    (["--kernel", "3x3"], "looks like a size"),
    (["--kernel", "sharpen", "--padding", "1e20"], "--padding must be a whole number"),
    (["--kernel", "sharpen", "--padding", "100000000000000000000"], "--padding may be at most 10,000"),
    (["--kernel", "sharpen", "--stride", "100000000"], "--stride may be at most 10,000"),
    (["--kernel", "sharpen", "--stride", "1,1000000000"], "--stride may be at most 10,000"),
])
def test_filter_bad_arguments_one_clear_line(tmp_path, capsys, args, words):
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "z.png")
    out = run(capsys, "filter", str(tmp_path / "z.png"), *args, "-o", str(tmp_path / "o.npy"))
    assert out.returncode == 1, out.stdout
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert words.lower() in out.stderr.lower()


def test_filter_floors_a_size_that_is_not_whole_like_torch_and_says_so(tmp_path, capsys):
    """(28 - 3) / 2 + 1 = 13.5: like PyTorch and Keras, the last row and column are left
    out (13x13), and a note on stderr says so; the numbers are torch's."""
    import torch
    import torch.nn.functional as F

    pixels = np.random.default_rng(1).integers(0, 256, (28, 28)).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "g.png")
    out = run(capsys, "filter", str(tmp_path / "g.png"), "--kernel", "sharpen", "--stride", "2",
                  "-o", str(tmp_path / "o.npy"))
    assert out.returncode == 0, out.stderr
    assert "13.5" in out.stderr and "left out" in out.stderr and "⌊13.5⌋ = 13" in out.stderr
    sharpen = torch.tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=torch.float64)
    expected = F.conv2d(torch.from_numpy(pixels.astype(np.float64))[None, None],
                        sharpen[None, None], stride=2)[0, 0].numpy()
    np.testing.assert_allclose(np.load(tmp_path / "o.npy"), expected)


def test_filter_large_kernel_values_match_torch_without_warnings(tmp_path, capsys):
    import torch

    img = np.random.default_rng(2).integers(0, 256, (9, 10), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "g.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow) fails the test
        out = run(capsys, "filter", str(tmp_path / "g.png"), "--kernel", "1e6", "-o",
                  str(tmp_path / "o.npy"))
    assert out.returncode == 0 and out.stderr == "", out.stderr
    got = np.load(tmp_path / "o.npy")
    ref = torch.tensor(img, dtype=torch.float64) * 1e6  # a 1x1 kernel scales every pixel
    np.testing.assert_allclose(got, ref.numpy(), rtol=1e-12)
    # Past MAX_KERNEL_VALUE (1e39 past float32, 1e308 past float64 once summed): one
    # clear line, no RuntimeWarning, no file.
    for kernel in ("1e39", "1e308 1e308"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = run(capsys, "filter", str(tmp_path / "g.png"), "--kernel", kernel, "-o",
                      str(tmp_path / "x.npy"))
        assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "too large" in out.stderr and "Warning" not in out.stderr
        assert not (tmp_path / "x.npy").exists()


def test_filter_softmax_activation_matches_torch(tmp_path, capsys):
    import torch

    img = np.random.default_rng(4).integers(0, 256, (8, 9), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "g.png")
    assert main(["filter", str(tmp_path / "g.png"), "--kernel", "1/255 * 1 -1", "--activation",
                 "softmax", "-o", str(tmp_path / "o.npy")]) == 0
    conv = torch.tensor(img, dtype=torch.float64)
    conv = (conv[:, :-1] - conv[:, 1:]) / 255
    ref = torch.softmax(conv.flatten(), 0).reshape(conv.shape)
    np.testing.assert_allclose(np.load(tmp_path / "o.npy"), ref.numpy(), rtol=1e-5)


@pytest.mark.parametrize("name", ["o.npy", "o.png"])
def test_filter_output_in_a_missing_folder_is_one_line(tmp_path, capsys, name):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "z.png")
    target = tmp_path / "missing" / name
    assert main(["filter", str(tmp_path / "z.png"), "--kernel", "sharpen", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"the folder {tmp_path / 'missing'} does not exist" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["z.png"]  # nothing created


@pytest.mark.parametrize("name", ["d.npy", "d.png"])
def test_filter_output_that_is_a_folder_is_one_line(tmp_path, capsys, name):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "z.png")
    (tmp_path / name).mkdir()
    assert main(["filter", str(tmp_path / "z.png"), "--kernel", "sharpen", "-o", str(tmp_path / name)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / name) in err and "is a folder" in err


def test_filter_output_name_is_used_exactly_and_printed(tmp_path, capsys):
    img = np.random.default_rng(3).integers(0, 256, (8, 8), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "z.png")
    target = tmp_path / "OUT.NPY"
    assert main(["filter", str(tmp_path / "z.png"), "--kernel", "identity", "-o", str(target)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["OUT.NPY", "z.png"]  # not OUT.NPY.npy
    np.testing.assert_array_equal(np.load(target), img[1:-1, 1:-1])
    assert f"-> {target}  (6x6" in capsys.readouterr().out
    target = tmp_path / "pic.PNG"
    assert main(["filter", str(tmp_path / "z.png"), "--kernel", "identity", "-o", str(target)]) == 0
    assert f"-> {target}  (6x6" in capsys.readouterr().out
    assert Image.open(target).size == (6, 6)


def test_filter_pool_none_and_default_stride(tmp_path, capsys):
    img = np.random.default_rng(5).integers(0, 256, (10, 10), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "z.png")
    assert main(["filter", str(tmp_path / "z.png"), "--kernel", "identity", "--pool", "none",
                 "-o", str(tmp_path / "a.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), img[1:-1, 1:-1])
    assert main(["filter", str(tmp_path / "z.png"), "--kernel", "identity", "--pool", "MAX:3",
                 "-o", str(tmp_path / "b.npy")]) == 0  # stride defaults to the size
    import torch

    ref = torch.nn.functional.max_pool2d(torch.tensor(img[1:-1, 1:-1], dtype=torch.float64)[None], 3)
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), ref[0].numpy())


def test_filter_unreadable_image(tmp_path, capsys):
    (tmp_path / "x.png").write_bytes(b"")
    out = run(capsys, "filter", str(tmp_path / "x.png"), "--kernel", "sharpen", "-o", str(tmp_path / "o.npy"))
    assert out.returncode == 1 and "Traceback" not in out.stderr


def test_data_where_and_verify(tmp_path, capsys):
    out = run(capsys, "data", "where", "--data-dir", str(tmp_path))
    assert out.stdout.strip() == str(tmp_path / "mnist")
    out = run(capsys, "data", "verify", "--data-dir", str(tmp_path))
    assert out.returncode == 1 and "missing file" in out.stdout


def test_data_verify_checks_unpacked_files(tmp_path, capsys, mnist_test):
    import gzip

    from cnnviz.core.datasets.data import get_dataset_info, resolve_data_dir

    src, dst = resolve_data_dir() / "mnist", tmp_path / "mnist"
    dst.mkdir()
    for f in get_dataset_info("mnist").files.values():
        if f.name.startswith("t10k"):  # the test split unpacked, the train split as .gz
            (dst / f.raw_name).write_bytes(gzip.decompress((src / f.name).read_bytes()))
        else:
            (dst / f.name).symlink_to(src / f.name)
    assert main(["data", "verify", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"ok       {dst / 't10k-images-idx3-ubyte'}" in out and "problem" not in out
    raw = dst / "t10k-labels-idx1-ubyte"
    data = bytearray(raw.read_bytes())
    data[20] = (data[20] + 1) % 10
    raw.write_bytes(bytes(data))
    assert main(["data", "verify", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"problem  {raw} does not match its published SHA-256" in out


@pytest.mark.parametrize("inherited", ["default", "ignored"])
def test_ctrl_c_keeps_last_complete_epoch(tmp_path, mnist_test, inherited):
    import signal

    from cnnviz.core.networks.weights import load_weights

    # A non-interactive shell starts background jobs with SIGINT ignored; train must still stop.
    disposition = signal.SIG_IGN if inherited == "ignored" else signal.SIG_DFL
    target = tmp_path / "stop.safetensors"
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "train", "--arch", "lecture-keras",
                             "--epochs", "50", "--limit", "1500", "--hold-out", "0",
                             "--out", str(target)],  # (no verdict to fix: quicker epochs)
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, disposition))
    try:
        seen = []
        for line in proc.stdout:  # wait for the first epoch's line (its file follows)
            seen.append(line)
            if line.startswith("epoch   1/"):
                break
        assert seen and seen[-1].startswith("epoch   1/"), "".join(seen)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)  # a backstop only: it stops within a batch
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    side = tmp_path / "stop.partial.safetensors"  # --out only once the run finishes
    card = load_weights(side).card
    assert 1 <= card["epochs"] < 50
    assert f"kept epoch {card['epochs']} in {side}" in err  # what is really on disk
    assert [p.name for p in tmp_path.iterdir()] == ["stop.partial.safetensors"]


def test_ctrl_c_during_a_save_reports_the_epoch_on_disk(tmp_path, capsys, monkeypatch, mnist_test):
    import cnnviz.core.networks.weights as weights

    real_save = weights.save_weights
    calls = []

    def save_cut_short(model, path, card=None):
        calls.append(card["epochs"])
        if len(calls) == 2:  # Ctrl-C while epoch 2 is being written: its .part is removed
            raise KeyboardInterrupt
        return real_save(model, path, card)

    monkeypatch.setattr(weights, "save_weights", save_cut_short)
    target = tmp_path / "w.safetensors"
    assert main(["train", "--arch", "lecture-keras", "--epochs", "3", "--limit", "300",
                 "--no-augment", "--hold-out", "0", "--out", str(target)]) == 130
    err = capsys.readouterr().err
    side = tmp_path / "w.partial.safetensors"
    assert calls == [1, 2] and weights.load_weights(side).card["epochs"] == 1
    assert f"kept epoch 1 in {side}" in err and "epoch 2" not in err
    assert not target.exists()


def test_exploding_loss_stops_training_without_saving_nan(tmp_path, capsys, mnist_test):
    target = tmp_path / "w.safetensors"
    assert main(["train", "--arch", "lecture-keras", "--optimizer", "sgd", "--lr", "1e10",
                 "--epochs", "2", "--limit", "512", "--batch-size", "64", "--no-augment",
                 "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "the loss became" in err and "learning rate 1e+10" in err and "nothing written" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, words", [
    (["--limit", "0"], "--limit must be at least 1 (got 0)"),
    (["--limit", "-5"], "--limit must be at least 1 (got -5)"),
    (["--lr", "inf"], "--lr must be a positive number like 0.003 (got inf)"),
    (["--lr", "nan"], "(got nan)"),
    (["--lr", "0"], "(got 0)"),
    (["--lr", "-0.1"], "(got -0.1)"),
])
def test_train_refuses_bad_limit_and_lr(tmp_path, capsys, args, words):
    # an empty data folder: were the value accepted, the error would be about missing data
    assert main(["train", *args, "--data-dir", str(tmp_path), "--out",
                 str(tmp_path / "w.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err


def test_train_out_that_is_a_folder_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "w.safetensors").mkdir()
    assert main(["train", "--data-dir", str(tmp_path), "--out", str(tmp_path / "w.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder" in err, err


def test_summary_refuses_an_architecture_and_weights_together(capsys):
    from cnnviz.core.networks.weights import shipped_weights_path

    assert main(["summary", "lecture-keras", "--weights", str(shipped_weights_path("cnnviz"))]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "not both" in captured.err


def _blank_pictures(folder):
    paths = {}
    paths["white"] = folder / "white.png"
    Image.fromarray(np.full((100, 100), 255, np.uint8)).save(paths["white"])
    paths["one_pixel"] = folder / "one.png"
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(paths["one_pixel"])
    paths["transparent"] = folder / "clear.png"
    Image.fromarray(np.zeros((5, 5, 4), np.uint8), "RGBA").save(paths["transparent"])
    paths["zero_16bit"] = folder / "i16.png"
    Image.fromarray(np.zeros((40, 40), np.uint16)).save(paths["zero_16bit"])
    return paths


@pytest.mark.parametrize("kind", ["white", "one_pixel", "transparent", "zero_16bit"])
def test_predict_blank_picture_says_no_digit_found(tmp_path, capsys, kind):
    blank = _blank_pictures(tmp_path)[kind]
    good = tmp_path / "digit.png"
    want = _digit_png(good, 3)
    assert main(["predict", str(good), str(blank)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{good}: {want}") and str(blank) not in captured.out
    assert captured.err == f"{blank}: error: no digit found: the picture is blank (no ink stands " \
                           "out from the background)\n"
    assert main(["predict", "--json", str(good), str(blank)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data[0]["prediction"] == want
    assert data[1] == {"file": str(blank), "error": "no digit found: the picture is blank "
                                                     "(no ink stands out from the background)"}


def test_predict_text_errors_go_to_stderr(tmp_path, capsys):
    good = tmp_path / "digit.png"
    want = _digit_png(good, 3)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert main(["predict", str(bad), str(good)]) == 1
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 1 and captured.out.startswith(f"{good}: {want}")
    assert captured.err.startswith(f"{bad}: error: ") and captured.err.count("\n") == 1


def test_predict_json_probabilities_keep_full_precision(tmp_path, capsys):
    from cnnviz.core.networks.weights import load_shipped
    from cnnviz.core.pictures.images import load_image
    from cnnviz.core.pictures.preprocess import preprocess_digit

    path = tmp_path / "digit.png"
    _digit_png(path, 0)
    assert main(["predict", "--json", str(path)]) == 0
    got = json.loads(capsys.readouterr().out)[0]["probabilities"]
    model = load_shipped("cnnviz").model
    want = model.predict_proba(preprocess_digit(load_image(path)).image[None])[0]
    # float32 arithmetic in a different order gives last-digit differences; rounding for
    # display would be far larger (and the next line would see the small ones as 0.0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=0)
    assert 0 < min(p for p in got if p > 0) < 5e-7  # small values are not shown as 0.0


def test_a_five_class_network_predicts_but_does_not_evaluate_on_mnist(tmp_path, capsys):
    """Any network reads a picture; evaluating on MNIST's ten digits is refused in one line."""
    from cnnviz.core.networks.models import Architecture, Conv, Dense, Flatten, build_model
    from cnnviz.core.networks.weights import save_weights
    from cnnviz.core.pictures.images import load_image
    from cnnviz.core.pictures.preprocess import preprocess_digit

    five = tmp_path / "five.safetensors"
    model = build_model(Architecture("five", "", (Conv(8, (3, 3)), Flatten(), Dense(5))), seed=0)
    save_weights(model, five)
    picture = tmp_path / "digit.png"
    _digit_png(picture, 0)
    assert main(["predict", "--json", "--weights", str(five), str(picture)]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    want = model.predict_proba(preprocess_digit(load_image(picture)).image[None])[0]
    np.testing.assert_allclose(result["probabilities"], want, rtol=1e-5)
    assert main(["evaluate", "--weights", str(five), "--data-dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "tell the ten digits apart; this one has 5 classes" in captured.err


def test_evaluate_text_counts(tmp_path, capsys, mnist_test):
    from cnnviz.core.networks.models import build_model
    from cnnviz.core.networks.weights import save_weights

    untrained = tmp_path / "u.safetensors"  # near chance: thousands wrong
    save_weights(build_model("lecture-keras", seed=0), untrained)
    assert main(["evaluate", "--weights", str(untrained)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Accuracy"))
    right, wrong = (int(w.replace(",", "")) for w in line.split("(")[1].split()[0:3:2])
    assert right + wrong == 10_000 and wrong > 1000
    assert f"{wrong:,} wrong" in line


def test_train_output_that_cannot_be_written_is_one_line(tmp_path, capsys, mnist_test):
    (tmp_path / "file").write_text("")  # its "folder" is a file: said before training
    target = tmp_path / "file" / "w.safetensors"
    assert main(["train", "--arch", "lecture-keras", "--epochs", "1", "--limit", "64",
                 "--no-augment", "--out", str(target)]) == 1
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1 and "is a file, not a folder" in err, err
    assert "epoch" not in captured.out
