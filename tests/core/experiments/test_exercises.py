"""Exercises: every kind checks right answers, refuses wrong ones and names the usual slips,
against hand-worked answers (the lecture's own among them) and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.core.experiments import exercises as ex
from cnnviz.core.experiments.exercises import check, lecture_question, make, variant

# --------------------------------------------------------------------------- the lecture's own


@pytest.mark.parametrize("text", ["24x14", "24 × 14", "(24, 14)", "24 by 14", "24*14", "[24 14]",
                                  " 24X14 "])
def test_twenty_one_filter_on_251_by_151_is_24_by_14(text):
    # [(251 − 21) / 10 + 1] × [(151 − 21) / 10 + 1], the lecture's Answer slide
    result = check(lecture_question("twenty-one-filter"), text)
    assert result.right and result.understood


def test_twenty_one_filter_slips():
    q = lecture_question("twenty-one-filter")
    swapped = check(q, "14 x 24")
    assert not swapped.right and swapped.slip == ex.SWAPPED
    assert check(q, "23x13").slip == ex.PLUS_ONE_FORGOTTEN
    unreadable = check(q, "twenty-four")
    assert not unreadable.understood and "24x14" in unreadable.message


def test_alexnet_first_layer_is_55():
    q = lecture_question("alexnet")  # ((227 − 11 + 2(0)) / 4) + 1 = 55
    assert check(q, "55").right and check(q, "55 × 55").right
    assert "(227 − 11 + 2×0) / 4 + 1 = 55" in " ".join(q.working)
    wrong = check(q, "56")
    assert not wrong.right and wrong.slip is None and "55" in wrong.message
    assert check(q, "54").slip == ex.PLUS_ONE_FORGOTTEN


def test_three_by_three_on_seven_by_seven_at_stride_2_takes_9_positions():
    q = lecture_question("positions-7x7-stride-2")  # (7 − 3) / 2 + 1 = 3 per axis
    assert check(q, "9").right and check(q, "3x3").right
    assert check(q, "3").slip == ex.ONE_AXIS
    assert check(q, "25").slip == ex.STRIDE_IGNORED  # every position at stride 1: 5 × 5


# The Recap slides, worked by hand: 2 1 −1 / −1 1 3 / 2 1 1
WHAT_IS_THE_OUTPUT = [[2, 1, -1], [-1, 1, 3], [2, 1, 1]]


@pytest.mark.parametrize("text", ["2 1 -1; -1 1 3; 2 1 1", "[[2,1,-1],[-1,1,3],[2,1,1]]",
                                  "2 1 −1\n−1 1 3\n2 1 1", "2 1 -1 -1 1 3 2 1 1", "2,1,-1 / -1,1,3 / 2,1,1"])
def test_what_is_the_output(text):
    q = lecture_question("what-is-the-output")
    assert np.array_equal(q.answer, WHAT_IS_THE_OUTPUT)
    assert check(q, text).right
    assert q.working[-1].endswith("= 2")  # the first Recap slide's sum, product by product


def test_what_is_the_output_names_the_flipped_kernel_and_a_wrong_cell():
    q = lecture_question("what-is-the-output")
    image = torch.tensor(ex.LECTURE_QUESTIONS["what-is-the-output"][1]["image"], dtype=torch.float64)
    kernel = torch.tensor([[0, 1, 0], [1, 0, -1], [0, 1, 0]], dtype=torch.float64)
    flipped = F.conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0].numpy()  # a true convolution
    text = "; ".join(" ".join(str(int(v)) for v in row) for row in flipped)
    assert check(q, text).slip == ex.KERNEL_FLIPPED
    one_off = check(q, "2 1 -1; -1 1 3; 2 1 0")
    assert not one_off.right and "row 3, column 3" in one_off.message
    assert "3×3, not 2×2" in check(q, "2 1; 1 1").message


def test_the_lecture_parameter_counts():
    assert check(lecture_question("sixteen-filters"), "448").right  # ((3×3×3) + 1) × 16
    assert check(lecture_question("conv2-params"), "18,496").right  # ((3×3×32) + 1) × 64
    assert check(lecture_question("fc1-params"), "1,179,776").right  # (9,216 + 1) × 128
    assert check(lecture_question("fc1-params"), "1 179 776").right
    assert check(lecture_question("keras-conv2"), "36928").right  # ((3×3×64) + 1) × 64
    assert check(make("dense-params", {"inputs": 128, "outputs": 10}), "1,290").right
    assert check(make("conv-params", {"kernel": 3, "depth": 1, "filters": 32}), "320").right


def test_the_slides_fcn_count_is_the_bias_counted_once():
    q = lecture_question("fcn-256")  # the slide: 256 × 256 × 10 + 1
    assert check(q, "655,370").right
    assert check(q, "655,361").slip == ex.BIAS_ONCE
    assert check(q, "655360").slip == ex.BIAS_LEFT_OUT
    assert any("256 × 256 × 10 + 1" in line for line in q.working)


def test_max_pool_of_the_lectures_block():
    q = lecture_question("max-pool-4x4")
    assert check(q, "123 253; 187 165").right
    slide = check(q, "123 167; 187 165")  # what the slide prints: 167 is not in the block
    assert not slide.right and "253" in slide.message
    assert check(q, "123 187; 253 165").slip == ex.SWAPPED
    assert check(q, "4 1; 21 12").slip == ex.TOOK_SMALLEST


def test_receptive_field_after_two_layers():
    q = lecture_question("deep-cnn-two-convs")  # 1 + 2 + 2
    assert check(q, "5").right and check(q, "5x5").right
    assert check(q, "6").slip == ex.KERNELS_ADDED
    # 3×3 conv at stride 2, then 3×3 conv: 1 + 2 + 2×2 = 7; the stride forgotten gives 5
    strided = make("receptive-field", {"layers": [["conv", 3, 2], ["conv", 3, 1]]})
    assert strided.answer == 7 and check(strided, "5").slip == ex.FIRST_STRIDE_LEFT_OUT
    pooled = make("receptive-field", {"layers": [["conv", 3, 1], ["pool", 2, 2]]})
    assert pooled.answer == 4


# --------------------------------------------------------------------------- each slip


def test_padding_forgotten_and_division_not_floored():
    padded = make("output-size", {"size": 28, "kernel": 5, "padding": 2})  # (28 − 5 + 4) / 1 + 1
    assert padded.answer == 28 and check(padded, "24").slip == ex.PADDING_FORGOTTEN
    ragged = make("output-size", {"size": 28, "kernel": 3, "stride": 2})  # 25 / 2 + 1 = 13.5
    assert ragged.answer == 13
    assert check(ragged, "13.5").slip == ex.NOT_FLOORED
    assert check(ragged, "14").slip == ex.NOT_FLOORED
    assert "⌊13.5⌋ = 13" in " ".join(ragged.working)


def test_bias_left_out_of_a_convolution():
    q = make("conv-output", {"image": [[1, 2], [3, 4]], "kernel": [[1, 0], [0, 1]], "bias": 2})
    assert np.array_equal(q.answer, [[7]])  # 1 + 4 + 2
    assert check(q, "7").right and check(q, "5").slip == ex.BIAS_LEFT_OUT
    assert check(make("conv-params", {"kernel": 3, "depth": 3, "filters": 16}), "432").slip == ex.BIAS_LEFT_OUT


def test_padding_and_stride_slips_of_a_convolution():
    image = np.arange(25).reshape(5, 5) % 3
    q = make("conv-output", {"image": image.tolist(), "kernel": [[0, 1, 0], [1, 0, -1], [0, 1, 0]],
                             "stride": 2, "padding": 1})
    t = torch.tensor(image, dtype=torch.float64)[None, None]
    k = torch.tensor([[0, 1, 0], [1, 0, -1], [0, 1, 0]], dtype=torch.float64)[None, None]
    assert np.array_equal(q.answer, F.conv2d(t, k, stride=2, padding=1)[0, 0].numpy())
    no_pad = F.conv2d(t, k, stride=2)[0, 0].numpy()
    text = "; ".join(" ".join(str(int(v)) for v in row) for row in no_pad)
    assert check(q, text).slip == ex.PADDING_FORGOTTEN


# --------------------------------------------------------------------------- variants


def test_variants_come_from_the_seed():
    a = [variant(k, 7, n).question for k in ex.KINDS for n in (1, 2)]
    assert a == [variant(k, 7, n).question for k in ex.KINDS for n in (1, 2)]
    assert a != [variant(k, 8, n).question for k in ex.KINDS for n in (1, 2)]


@pytest.mark.parametrize("n", range(1, 6))
def test_variants_agree_with_torch(n):
    q = variant("output-size", 3, n)
    v = q.values
    out = F.conv2d(torch.zeros(1, 1, *v["size"]), torch.zeros(1, 1, v["kernel"], v["kernel"]),
                   stride=v["stride"], padding=v["padding"])
    assert q.answer == tuple(out.shape[2:]) and check(q, f"{out.shape[2]}x{out.shape[3]}").right
    q = variant("conv-output", 3, n)
    v = q.values
    out = F.conv2d(torch.tensor(v["image"], dtype=torch.float64)[None, None],
                   torch.tensor(v["kernel"], dtype=torch.float64)[None, None],
                   torch.tensor([float(v["bias"])], dtype=torch.float64),
                   stride=v["stride"], padding=v["padding"])[0, 0].numpy()
    assert np.array_equal(q.answer, out)
    q = variant("max-pool", 3, n)
    out = F.max_pool2d(torch.tensor(q.values["block"], dtype=torch.float64)[None, None], 2, 2)
    assert np.array_equal(q.answer, out[0, 0].numpy())
    q = variant("conv-params", 3, n)
    v = q.values
    layer = torch.nn.Conv2d(v["depth"], v["filters"], v["kernel"])
    assert q.answer == sum(p.numel() for p in layer.parameters())
    q = variant("dense-params", 3, n)
    layer = torch.nn.Linear(q.values["inputs"], q.values["outputs"])
    assert q.answer == sum(p.numel() for p in layer.parameters())


@pytest.mark.parametrize("kind", ex.KINDS)
def test_every_kind_right_wrong_and_a_named_slip(kind):
    q = variant(kind, 11, 1)
    assert check(q, q.answer_text.replace("−", "-")).right
    assert q.slips, "each variant has at least one slip to name"
    wrong, name = q.slips[0]
    text = "; ".join(" ".join(str(v) for v in row) for row in np.asarray(wrong)) \
        if q.form == "grid" else (f"{wrong[0]}x{wrong[1]}" if isinstance(wrong, tuple) else str(wrong))
    result = check(q, text)
    assert not result.right and result.slip == name and name in result.message


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize("kind, values, words", [
    ("output-size", {"size": 3, "kernel": 5}, "does not fit"),
    ("output-size", {"size": 28, "kernel": 3, "colour": 1}, "does not take colour"),
    ("output-size", {"size": float("inf"), "kernel": 3}, "whole number"),
    ("conv-output", {"image": [[1] * 9] * 9, "kernel": [[1]]}, "at most 7×7"),
    ("conv-output", {"image": [[1, 2], [3]], "kernel": [[1]]}, "rows"),
    ("receptive-field", {"layers": [["dense", 3, 1]]}, "conv"),
    ("nonsense", {}, "unknown exercise kind"),
    ("dense-params", {"inputs": 10}, "needs inputs, outputs"),
])
def test_bad_numbers_are_refused_in_words(kind, values, words):
    with pytest.raises(ex.ExerciseError, match=words):
        make(kind, values)


def test_a_huge_answer_is_not_read():
    result = check(lecture_question("alexnet"), "5" * 10_000)
    assert not result.understood and "at most" in result.message
