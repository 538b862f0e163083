"""The verdict: does this input look like what the network was trained on?

The softmax always gives ten probabilities that add up to 1, so a letter or a smiley still
gets a digit at ">99.9% sure". The verdict is a second, honest answer beside it: "unsure"
when the input does not look like a digit (or, for a Fashion-MNIST model, a piece of
clothing). The softmax on screen is left as it is.

How it is decided (all of it here):
- A score from the network's logits (the scores before the softmax): the largest logit,
  negated (MaxLogit; Hendrycks et al., 2022), so that higher means less like the training
  data. A real digit makes one class's logit large; a star makes none large, whatever the
  softmax then says. Measured (benchmarks/bench_verdict.py) against the energy score
  -logsumexp(logits) (Liu et al., 2020) and the top softmax probability: at the same share
  of real pictures flagged it flagged the most drawn non-digits, and by far the most
  non-clothes for the Fashion-MNIST model (95% against 10% for energy after one epoch).
- A threshold fixed when the model is trained, on real pictures the network never trained
  on: the QUANTILE-th quantile of their scores, so about 1 - QUANTILE of real digits are
  called unsure; for a digit model, the largest of that and the USER_QUANTILE-th quantile
  of the same digits made into each kind of picture users load (cnnviz.core.pictures.user_pictures,
  through the app's preprocessing), so photographed or scanned digits are rarely unsure
  either. It is stored in the model card as card["verdict"] (with "thresholds" per kind):
      {"score": "max_logit", "threshold": -9.1, "quantile": 0.995, "held_out": 2000,
       "flagged_real": 0.005, "flagged_outliers": 0.93, "source": "..."}
- Unsure when the score is above the threshold (or is not a finite number).
- A model whose card has no (valid) verdict gets the default rule: unsure when the largest
  softmax probability is below DEFAULT_MIN_PROBABILITY. Such a model was not trained to
  tell, so this catches only inputs on which it hesitates.

The network learns to give non-digits low logits by outlier exposure (Hendrycks et al.,
2019): during training a batch of synthetic non-digits (cnnviz.core.reading.outliers) is pushed
towards the uniform softmax (outlier_exposure_loss), with weight TrainConfig.outlier_exposure.

The training lab calls calibrate_for_card(model, held_out_images, dataset) after training
and stores the result as card["verdict"].
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

# torch is imported inside the functions that need it: the app's views import the words
# below before torch is loaded (the lazy start).

SCORES = ("energy", "max_logit", "max_softmax")  # all oriented: higher = less like training
SCORE = "max_logit"  # the one used (measured best; see the module docstring)
QUANTILE = 0.995  # of held-out real scores: about 0.5% of real pictures are called unsure
HELD_OUT = 2000  # cnnviz train keeps the last this many training images out of training
# Digit models are also calibrated on the held-out digits made into the pictures users load
# (cnnviz.core.pictures.user_pictures: tight crops, phone photos, faint pencil, low-resolution scans),
# each through the app's preprocessing: the threshold is the largest of the held-out one and
# each kind's USER_QUANTILE, so a real digit photographed or scanned is rarely called unsure.
# Pictures per kind (phone photos are the slowest to make and read), and their own seed.
USER_PICTURES = {"tight_crop": 200, "phone_photo": 100, "faint_pencil": 200,
                 "low_res_blocky": 800, "low_res_smooth": 800}
USER_QUANTILE = 0.995  # measured: 0.99 left 2.1-2.4% of blocky scans of test digits unsure
USER_SEED = 1000  # the benchmarks use seeds 0, 1, 2 (and MNIST test digits, not these)
FULL_RUN = 50_000  # a run on this many training images (or more) gets all USER_PICTURES ...
LEAST_SHARE = 0.1  # ... a short one its share of them, at least this (a quick calibration)


def user_share(train_images: int) -> float:
    """The share of USER_PICTURES a run on train_images images is calibrated on: making and
    reading them takes about 20 s, which a full run can spare and a 1-minute one cannot."""
    return float(min(1.0, max(LEAST_SHARE, train_images / FULL_RUN)))
DEFAULT_MIN_PROBABILITY = 0.5  # the default rule: unsure below this top softmax probability
OUTLIERS_IN_CARD = 600  # measurement-stream non-digits whose flagged share the card records

# Outlier exposure during training.
OE_BATCH_FRACTION = 0.25  # outliers per training batch, as a share of the batch's digits
OE_POOL_MAX = 4000  # synthetic pictures drawn once per run (the training stream) ...
OE_POOL_MIN = 512  # ... and at least this many, also for a short run
OE_POOL_SHARE = 0.1  # ... or a tenth of the training images, whichever is between


def outlier_exposure_loss(logits):
    """Cross-entropy from the outliers' softmax to the uniform distribution, minus its
    minimum log(K): 0 exactly when every outlier gets 1/K for each class."""
    import torch.nn.functional as F

    return -F.log_softmax(logits, dim=1).mean(dim=1).mean() - math.log(logits.shape[1])


def outlier_pool_size(train_images: int) -> int:
    return int(min(OE_POOL_MAX, max(OE_POOL_MIN, round(train_images * OE_POOL_SHARE))))


def scores(logits, score: str = SCORE) -> np.ndarray:
    """(N, K) or (K,) logits -> (N,) or () scores; higher means less like the training data.
    A row that is not all finite scores +inf (always unsure)."""
    z = np.asarray(logits, dtype=np.float64)
    if score not in SCORES:
        raise ValueError(f"unknown verdict score {score!r}; choose one of {', '.join(SCORES)}")
    finite = np.isfinite(z).all(axis=-1)
    z = np.where(np.isfinite(z), z, 0.0)
    top = z.max(axis=-1)
    lse = top + np.log(np.exp(z - top[..., None]).sum(axis=-1))
    if score == "energy":
        s = -lse
    elif score == "max_logit":
        s = -top
    else:
        s = -np.exp(top - lse)
    return np.where(finite, s, np.inf)


def logits_of(model, images, batch_size: int = 1000) -> np.ndarray:
    """The logits (the scores before any softmax) of (N, 28, 28) images: uint8 0..255 or
    floats 0..1. The model is put in eval mode."""
    import torch

    with torch.no_grad():
        return _logits(torch, model, images, batch_size)


def _logits(torch, model, images, batch_size: int) -> np.ndarray:
    a = np.asarray(images)
    x = torch.from_numpy(a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0))
    if x.ndim == 3:
        x = x[:, None]
    model.eval()
    device = next(model.parameters()).device
    out = [model(x[i:i + batch_size].to(device)).float().cpu()
           for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, 10), np.float32)


def calibrate(model, held_out, *, score: str = SCORE, quantile: float = QUANTILE,
              source: str = "", outliers=None) -> dict:
    """The verdict for a model's card, fixed on held-out real pictures (never trained on):
    the threshold is the quantile-th quantile of their scores (numpy's linear
    interpolation). outliers: synthetic non-digits (28x28) whose flagged share is recorded."""
    if len(held_out) == 0:
        raise ValueError("calibrating the verdict needs at least one held-out picture")
    logits = _logits_of_groups(model, {"held-out": held_out, "outliers": outliers})
    return _verdict(logits["held-out"], score, quantile, source, logits.get("outliers"))


def _verdict(held_out_logits: np.ndarray, score: str, quantile: float, source: str,
             outlier_logits: np.ndarray | None = None) -> dict:
    all_real = scores(held_out_logits, score)
    real = all_real[np.isfinite(all_real)]
    if real.size == 0:
        raise ValueError("the network gives no finite output on the held-out pictures")
    threshold = float(np.quantile(real, quantile))
    verdict = {"score": score, "threshold": threshold, "quantile": quantile,
               "held_out": int(len(held_out_logits)),
               "flagged_real": float(np.mean(real > threshold)), "source": source}
    if outlier_logits is not None and len(outlier_logits):
        verdict["flagged_outliers"] = float(np.mean(scores(outlier_logits, score) > threshold))
    return verdict


def _logits_of_groups(model, groups: dict, progress=None,
                      batch_size: int = 1000) -> dict[str, np.ndarray]:
    """{name: logits} of several groups of (N, 28, 28) pictures (uint8 0..255 or floats
    0..1; None or empty groups left out) in one pass through the network, in batches;
    progress(share done) after each batch (it may raise to stop the work)."""
    import torch

    parts = {}
    for name, images in groups.items():
        if images is not None and len(images):
            a = np.asarray(images)
            a = a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
            parts[name] = a[:, None] if a.ndim == 3 else a
    if not parts:
        return {}
    x = torch.from_numpy(np.concatenate(list(parts.values())))
    model.eval()
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(model(x[i:i + batch_size].to(device)).float().cpu())
            if progress is not None:
                progress(min(1.0, (i + batch_size) / len(x)))
    logits = torch.cat(out).numpy()
    ends = np.cumsum([len(a) for a in parts.values()])
    return dict(zip(parts, np.split(logits, ends[:-1]), strict=True))


@functools.lru_cache(maxsize=4)
def measurement_outliers(dataset: str, n: int = OUTLIERS_IN_CARD) -> np.ndarray:
    """Non-digits (non-clothes) from the measurement stream, preprocessed for the dataset.
    The same every time (seed 0): made once and kept in cnnviz's cache; read-only."""
    from ..basics.picture_cache import cached
    from .outliers import STREAM_MEASURE, outlier_inputs

    out = cached("measurement-outliers", (n, dataset, STREAM_MEASURE, 0),
                 lambda: outlier_inputs(n, dataset, stream=STREAM_MEASURE, seed=0)[0],
                 dtype="float32")
    out.setflags(write=False)  # shared by every caller (lru_cache)
    return out


def user_views(images, dataset: str = "mnist", share: float = 1.0,
               progress=None) -> dict[str, np.ndarray]:
    """The held-out images made into each kind of user picture and preprocessed as the app
    does: {kind: (N, 28, 28) float32 network inputs} (pictures in which no digit was found
    are left out). USER_PICTURES per kind times `share`, seeded; {} for a non-digit model.
    The model does not enter: compute this once for several calibrations. progress(share
    done) after each kind (it may raise to stop the work)."""
    if dataset != "mnist":
        return {}
    from ..basics.picture_cache import cached

    a = np.asarray(images)
    if a.dtype != np.uint8:
        a = np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    views = {}
    for done, (kind, count) in enumerate(USER_PICTURES.items()):
        if progress is not None:
            progress(done / len(USER_PICTURES))
        n = max(10, round(count * share))
        # the same digits give the same pictures: made once, then read from the cache
        views[kind] = cached("user-view", (kind, n, USER_SEED),
                             functools.partial(_user_view, a, kind, n), arrays=(a,),
                             dtype="float32")
    return views


def _user_view(images: np.ndarray, kind: str, count: int) -> np.ndarray:
    """count pictures of one kind made from the digits, through the app's preprocessing."""
    from ..pictures.preprocess import preprocess_digit
    from ..pictures.user_pictures import make_set

    pictures, _ = make_set(kind, images, np.zeros(len(images), np.int64), count=count,
                           seed=USER_SEED)
    found = [d.image for d in map(preprocess_digit, pictures) if not d.empty]
    return np.asarray(found, np.float32).reshape(-1, 28, 28)


KIND_WORDS = {"tight_crop": "tight crops", "phone_photo": "phone photos",
              "faint_pencil": "faint pencil", "low_res_blocky": "blocky low-res scans",
              "low_res_smooth": "smooth low-res scans"}


def calibrate_for_card(model, held_out_images, dataset: str = "mnist", *,
                       source: str = "held-out pictures never trained on",
                       outliers=None, views: dict | None = None, progress=None) -> dict:
    """What the training lab (and cnnviz train) stores as card["verdict"] after training:
    the threshold from held_out_images ((N, 28, 28) uint8 or 0..1 floats, never trained on);
    for a digit model the largest of that and the USER_QUANTILE of each kind of user picture
    made from the same digits (`views`, from user_views; computed here when None), and the
    share of OUTLIERS_IN_CARD drawn non-digits it flags (pass `outliers` from
    measurement_outliers(dataset) to draw them once for several calls). progress(share done)
    is called after each step (it may raise to stop the work)."""
    if outliers is None:
        outliers = measurement_outliers(dataset)
    if views is None:
        views = user_views(held_out_images, dataset)
    if len(held_out_images) == 0:
        raise ValueError("calibrating the verdict needs at least one held-out picture")
    # every group in one pass through the network (each picture once)
    logits = _logits_of_groups(model, {"held-out": held_out_images, "outliers": outliers,
                                       **{f"as {kind}": v for kind, v in views.items()}},
                               progress)
    card = _verdict(logits["held-out"], SCORE, QUANTILE, source)
    thresholds = {"held-out": card["threshold"]}
    for kind in views:
        if f"as {kind}" in logits:
            thresholds[f"held-out as {KIND_WORDS.get(kind, kind)}"] = _verdict(
                logits[f"as {kind}"], SCORE, USER_QUANTILE, source)["threshold"]
    if len(thresholds) > 1:
        card["thresholds"] = thresholds
        card["user_quantile"] = USER_QUANTILE
        top = max(thresholds.values())
        if top > card["threshold"]:
            card["threshold"] = top
            real = scores(logits["held-out"], card["score"])
            card["flagged_real"] = float(np.mean(real > top))
    if "outliers" in logits:
        flagged = scores(logits["outliers"], card["score"]) > card["threshold"]
        card["flagged_outliers"] = float(np.mean(flagged))
    return card


@dataclass(frozen=True)
class Rule:
    """How a model's verdict is decided: a stored score and threshold, or the default."""

    score: str  # one of SCORES
    threshold: float  # unsure when the score is above it
    stored: bool  # False: the default rule (the card has none)
    held_out: int = 0
    flagged_real: float | None = None

    def describe(self, thing: str = "digit") -> str:
        """One plain sentence for a tooltip."""
        if not self.stored:
            return (f"This model has no stored verdict, so it is called unsure when its top "
                    f"probability is below {DEFAULT_MIN_PROBABILITY:.0%}.")
        real = (f" ({self.flagged_real:.1%} of them)" if self.flagged_real is not None else "")
        return (f"Unsure when the network's {SCORE_WORDS.get(self.score, self.score)} is "
                f"above a threshold fixed on {self.held_out:,} real {thing}s it never trained "
                f"on, so that only the most unusual of them{real} are called unsure.")


SCORE_WORDS = {"energy": "energy score (−log Σ eˡᵒᵍⁱᵗ)", "max_logit": "largest logit (negated)",
               "max_softmax": "top probability (negated)"}
DEFAULT_RULE = Rule("max_softmax", -DEFAULT_MIN_PROBABILITY, stored=False)


def rule_for(card: dict | None) -> Rule:
    """The card's stored verdict when it is valid, else DEFAULT_RULE (a card from an older
    cnnviz, another tool, or a hand-edited file)."""
    v = card.get("verdict") if isinstance(card, dict) else None
    if not isinstance(v, dict):
        return DEFAULT_RULE
    score, threshold = v.get("score"), v.get("threshold")
    if score not in SCORES or isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not math.isfinite(threshold):
        return DEFAULT_RULE
    held = v.get("held_out")
    flagged = v.get("flagged_real")
    return Rule(score, float(threshold), stored=True,
                held_out=held if isinstance(held, int) and not isinstance(held, bool) else 0,
                flagged_real=float(flagged) if isinstance(flagged, (int, float))
                and not isinstance(flagged, bool) and math.isfinite(flagged) else None)


def unsure_scores(logits, card: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """(unsure, score) for (N, K) or (K,) logits under the card's rule."""
    rule = rule_for(card)
    s = scores(logits, rule.score)
    return ~(s <= rule.threshold), s  # NaN or inf scores are unsure


def is_unsure(logits, card: dict | None) -> bool:
    """One input's (K,) logits: should the answer be distrusted?"""
    unsure, _ = unsure_scores(np.asarray(logits).reshape(-1), card)
    return bool(unsure)


# What an unsure answer says, per dataset (the command line and the app).
WHAT_IT_KNOWS = {"mnist": ("a digit", "digits"),
                 "fashion-mnist": ("a piece of clothing", "clothes, shoes and bags")}


def not_like(dataset: str | None) -> str:
    """'does not look like a digit' (or 'like a piece of clothing' for Fashion-MNIST)."""
    return f"does not look like {WHAT_IT_KNOWS.get(dataset or 'mnist', WHAT_IT_KNOWS['mnist'])[0]}"


def trained_only_on(dataset: str | None) -> str:
    """'digits' (or 'clothes, shoes and bags'): what the network was trained on."""
    return WHAT_IT_KNOWS.get(dataset or "mnist", WHAT_IT_KNOWS["mnist"])[1]


def unsure_help(dataset: str | None) -> str:
    """A tooltip: why the answer says it does not look like a digit, in plain words."""
    known = trained_only_on(dataset)
    return (f"The network was trained only on {known}. Its softmax always shares 100% among "
            f"its ten classes, so it names one of them for anything, even a star. cnnviz also "
            f"checks how strongly the network responds to the input (its largest score before "
            f"the softmax): when that is weaker than for all but the most "
            f"unusual real {known} it never trained on, the answer says it {not_like(dataset)}. "
            f"The probabilities are shown unchanged.")
