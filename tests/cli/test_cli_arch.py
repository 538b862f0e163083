"""`--arch` takes a preset, a .json file or the text form (train and summary), the fast
preset trains with its own recipe when no option is given, and --device is checked."""

from __future__ import annotations

import json
from types import SimpleNamespace

from cnnviz.cli import main
from cnnviz.core.networks.arch_text import architecture_to_json, parse_architecture
from cnnviz.core.networks.models import ARCHITECTURES
from cnnviz.core.networks.weights import load_weights
from cnnviz.core.training.loop import RECIPES

TEXT = "conv 8 3, relu, maxpool 2, flatten, dense 10"


def run(capsys, *args):
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def test_summary_takes_a_name_a_json_file_or_text(capsys, tmp_path):
    by_position = run(capsys, "summary", "lecture-keras")
    by_option = run(capsys, "summary", "--arch", "lecture-keras")
    assert by_position.returncode == by_option.returncode == 0
    assert by_position.stdout == by_option.stdout
    assert "Total parameters: 53,578" in by_option.stdout
    text = run(capsys, "summary", "--arch", TEXT)
    assert text.returncode == 0 and "Total parameters: 13,610" in text.stdout  # 80 + 13,530
    assert f"As text: {TEXT}" in text.stdout
    path = tmp_path / "net.json"
    path.write_text(architecture_to_json(parse_architecture(TEXT, name="mine")))
    from_file = run(capsys, "summary", str(path))
    assert from_file.returncode == 0 and "Model: mine" in from_file.stdout
    bad = run(capsys, "summary", "--arch", "conv 8 3, dense 10")
    assert bad.returncode == 1 and "layer 2 (dense 10)" in bad.stderr
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    for name in ARCHITECTURES:
        assert run(capsys, "summary", name).returncode == 0


def test_train_from_text_and_the_file_opens_everywhere(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA_DIR", monkeypatch_data_dir())
    out = tmp_path / "text.safetensors"
    done = run(capsys, "train", "--arch", TEXT, "--epochs", "1", "--limit", "256",
               "--batch-size", "64", "--no-augment", "--device", "cpu", "--hold-out", "0",
               "--out", str(out))
    assert done.returncode == 0, done.stderr
    loaded = load_weights(out)
    assert loaded.model.arch.layers == parse_architecture(TEXT).layers
    assert loaded.card["layers"] == TEXT and loaded.card["device"] == "cpu"
    assert run(capsys, "summary", "--weights", str(out)).returncode == 0
    assert run(capsys, "evaluate", "--weights", str(out), "--json").returncode == 0


def test_the_fast_preset_trains_with_its_own_recipe(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA_DIR", monkeypatch_data_dir())
    out = tmp_path / "fast.safetensors"
    done = run(capsys, "train", "--arch", "fast", "--limit", "1024", "--hold-out", "0",
               "--out", str(out))  # (the recipe is checked, not the verdict)
    assert done.returncode == 0, done.stderr
    card = load_weights(out).card
    recipe = RECIPES["fast"]
    assert (card["epochs"], card["batch_size"], card["optimizer"], card["lr"],
            card["schedule"], card["augment"], card["adam_beta1"]) == (
        recipe.epochs, recipe.batch_size, recipe.optimizer, recipe.lr, recipe.schedule,
        recipe.augment, recipe.adam_beta1)
    assert "for 1 epochs" in done.stdout and f"batch {recipe.batch_size}," in done.stdout
    # its bfloat16 forward pass where the CPU has it, said and recorded; --float32 turns it off
    from cnnviz.core.basics.machine import cpu_computes_bfloat16

    native = cpu_computes_bfloat16()
    assert ("precision" in card) == native == ("bfloat16 forward pass" in done.stdout)
    plain = run(capsys, "train", "--arch", "fast", "--limit", "512", "--hold-out", "0",
                "--float32", "--out", str(tmp_path / "plain.safetensors"))
    assert plain.returncode == 0, plain.stderr
    assert "precision" not in load_weights(tmp_path / "plain.safetensors").card
    assert "bfloat16" not in plain.stdout


def test_bad_arch_and_device_are_one_line(capsys, tmp_path):
    out = str(tmp_path / "x.safetensors")
    bad = run(capsys, "train", "--arch", "resnet", "--out", out)
    assert bad.returncode == 1 and "unknown architecture 'resnet'" in bad.stderr
    missing = run(capsys, "train", "--arch", str(tmp_path / "none.json"), "--out", out)
    assert missing.returncode == 1 and "no such file" in missing.stderr
    (tmp_path / "b.json").write_text(json.dumps({"layers": "nope"}))
    broken = run(capsys, "train", "--arch", str(tmp_path / "b.json"), "--out", out)
    assert broken.returncode == 1 and "b.json" in broken.stderr
    import torch

    if not torch.cuda.is_available():
        gpu = run(capsys, "train", "--device", "cuda", "--out", out)
        assert gpu.returncode == 1 and "no CUDA GPU" in gpu.stderr
    nproc = run(capsys, "train", "--nproc", "0", "--out", out)
    assert nproc.returncode == 1 and "--nproc must be at least 1" in nproc.stderr
    for line in (bad, missing, broken, nproc):
        assert line.stderr.count("\n") == 1


def monkeypatch_data_dir() -> str:
    from data_policy import need_data

    return need_data("mnist")
