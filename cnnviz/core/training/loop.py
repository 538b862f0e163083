"""Training and evaluation, as plain functions (after pytorch/examples mnist/main.py).

`train()` reports progress through callbacks so the command line can draw a progress bar
and the app can draw live curves; it never prints. It is the one training loop: the
command line, the lab's training process and every process of a multi-process run
(`parallel=`, as nanoGPT's train.py runs alone or under DDP in the same loop) use it.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..networks.models import Architecture, ArchitectureError, Network, summarize
from ..networks.network import probabilities
from .divergence import DivergenceWatch


@dataclass
class TrainConfig:
    epochs: int = 15
    batch_size: int = 128
    optimizer: str = "adam"  # or "sgd"
    lr: float = 3e-3
    # Adam's beta1 (momentum of the gradient average): below the usual 0.9 the optimizer
    # follows the gradient sooner, which helps a run of only a few hundred steps.
    adam_beta1: float = 0.9
    sgd_momentum: float = 0.0  # the lecture's Keras example: plain SGD, no momentum
    schedule: str = "onecycle"  # or "constant"
    augment: bool = True
    seed: int = 0
    weight_decay: float = 0.0
    # Outlier exposure (cnnviz.core.reading.verdict): the weight of the loss that pushes synthetic
    # non-members of outlier_dataset (cnnviz.core.reading.outliers' training stream) to a uniform
    # softmax; 0 = off.
    outlier_exposure: float = 0.0
    outlier_dataset: str = "mnist"
    # The forward pass in bfloat16 where the CPU computes it natively (AMX or AVX-512 BF16),
    # weights, gradients and optimizer in float32: steps about 1.4x quicker there. Ignored
    # on any other CPU or device; the model is always saved and evaluated in float32.
    bfloat16: bool = False


@dataclass
class EpochResult:
    epoch: int  # 1-based
    train_loss: float
    train_accuracy: float
    test_loss: float | None
    test_accuracy: float | None
    seconds: float


@dataclass
class TrainResult:
    epochs: list[EpochResult] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    # Why training stopped early because numbers blew up (the loss or a weight became NaN or
    # infinite, usually a learning rate far too high); None otherwise.
    diverged: str | None = None


class _NotFinite(Exception):
    """Internal: the loss or the weights stopped being finite numbers."""


@dataclass(frozen=True)
class Parallel:
    """This process's place in a multi-process run; torch.distributed is already joined
    (cnnviz.core.training.distributed.join). Each process trains on its own share of every epoch
    with batch_size / world images a step; DDP averages the gradients."""

    rank: int
    world: int
    cuda: bool = False

    @property
    def leader(self) -> bool:
        """Rank 0 evaluates, reports and saves."""
        return self.rank == 0

    def share(self, n: int, seed: int, epoch: int) -> torch.Tensor:
        """This process's indices of n training images for an epoch, as torch's
        DistributedSampler draws them: one shuffle per epoch for all, padded to a multiple
        of the processes, every world-th from this rank."""
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))
        total = math.ceil(n / self.world) * self.world
        if total > n:
            order = torch.cat([order, order[:total - n]])
        return order[self.rank:total:self.world]

    @property
    def device(self) -> torch.device:
        """Where the collectives' small tensors live (the process's GPU under NCCL)."""
        return torch.device("cuda", torch.cuda.current_device()) if self.cuda else torch.device("cpu")

    def agree(self, problem: str | None, stop: bool, where: str) -> tuple[str | None, bool]:
        """Every process learns whether any one's loss blew up or any one was asked to
        stop, at the same step, so none waits forever for the others."""
        import torch.distributed as dist

        flags = torch.tensor([1.0 if problem else 0.0, 1.0 if stop else 0.0], device=self.device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        if flags[0] > 0 and problem is None:
            problem = f"the loss of another process became NaN or infinite {where}"
        return problem, bool(flags[1] > 0)

    def total(self, *values: float) -> list[float]:
        """The sums of these numbers over every process."""
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()


def _weights_finite(model: Network) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in model.state_dict().values()
               if v.is_floating_point())


# A preset's own training recipe: what `cnnviz train --arch NAME` and the lab use when
# no setting is given. Others get TrainConfig()'s defaults.
RECIPES: dict[str, TrainConfig] = {
    # One pass over the training set in large batches, one-cycle, Adam with a low beta1,
    # no augmentation: 99% MNIST test accuracy in the fewest CPU seconds (the fast preset).
    # Peak lr 0.012 with the bfloat16 forward pass: seeds 0-9 ended at 99.06-99.20% (float32
    # at 0.015: 99.10-99.21%; at 0.01, seed 2 at 98.96%).
    "fast": TrainConfig(epochs=1, batch_size=256, optimizer="adam", lr=0.012, adam_beta1=0.7,
                        schedule="onecycle", augment=False, seed=0, bfloat16=True),
}


# The learning rate and schedule an optimizer starts from when none is given (the command
# line and the lab's settings alike): Adam at 0.003 with one-cycle, SGD at the lecture's
# 0.01, constant.
OPTIMIZER_DEFAULTS = {"adam": (0.003, "onecycle"), "sgd": (0.01, "constant")}


def recipe_for(arch_name: str) -> TrainConfig:
    """The training settings a preset comes with (a fresh copy: callers may change it)."""
    from dataclasses import replace

    return replace(RECIPES.get(arch_name, TrainConfig()))


def config_problem(config: TrainConfig) -> str | None:
    """Why these settings cannot train, in words (None when they can)."""
    if not (isinstance(config.epochs, int) and 1 <= config.epochs <= 10_000):
        return f"epochs must be a whole number from 1 to 10,000, got {config.epochs!r}"
    if not (isinstance(config.batch_size, int) and 1 <= config.batch_size <= 1_000_000):
        return f"the batch size must be a whole number of at least 1, got {config.batch_size!r}"
    if config.optimizer not in ("sgd", "adam"):
        return f"the optimizer must be sgd or adam, got {config.optimizer!r}"
    if config.schedule not in ("onecycle", "constant"):
        return f"the schedule must be onecycle or constant, got {config.schedule!r}"
    if not (math.isfinite(config.lr) and config.lr > 0):
        return f"the learning rate must be a positive number like 0.003, got {config.lr!r}"
    if not (0.0 <= config.adam_beta1 < 1.0):
        return f"Adam's beta1 must be at least 0 and below 1, got {config.adam_beta1!r}"
    if not (0.0 <= config.sgd_momentum < 1.0):
        return f"the SGD momentum must be at least 0 and below 1, got {config.sgd_momentum!r}"
    if not (math.isfinite(config.weight_decay) and config.weight_decay >= 0):
        return f"the weight decay must be 0 or more, got {config.weight_decay!r}"
    from ..basics.limits import MAX_TRAIN_SEED

    if not (isinstance(config.seed, int) and 0 <= config.seed <= MAX_TRAIN_SEED):
        return f"the seed must be a whole number from 0 to {MAX_TRAIN_SEED:,}, got {config.seed!r}"
    if not (math.isfinite(config.outlier_exposure) and 0 <= config.outlier_exposure <= 100):
        return f"the outlier exposure must be from 0 to 100, got {config.outlier_exposure!r}"
    return None


DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """--device: auto picks what is there (CUDA, then Apple's MPS, then the CPU); asking
    for one that is not there is a ValueError in words."""
    if name == "auto":
        return pick_device()
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA GPU is available here (this torch "
                             f"{torch.__version__} build or this machine has none); use "
                             "--device cpu or auto")
        return torch.device("cuda")
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError("--device mps: Apple's Metal (MPS) is not available here; use "
                             "--device cpu or auto")
        return torch.device("mps")
    raise ValueError(f"--device must be one of {', '.join(DEVICE_CHOICES)}, got {name!r}")


def pick_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1]; (N, C, H, W) keeps its channels."""
    x = torch.from_numpy(np.array(images, dtype=np.float32)).div_(255.0)
    return x if x.ndim == 4 else x.unsqueeze(1)


def augment_batch(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random small affine changes and stroke thickness, as people's drawings vary.

    Rotation +-12 degrees, scale 0.85-1.15, shift +-2.5 px, shear +-0.15; a third of the
    batch gets thicker strokes (3x3 max filter), a sixth thinner ones (3x3 min filter);
    then about an eighth become low-resolution scans (cnnviz.core.datasets.augment.degrade_low_res).
    """
    from ..datasets.augment import AUGMENT_SHIFT_PX, degrade_low_res

    b = x.shape[0]

    def uniform(lo, hi):
        return torch.rand(b, generator=generator) * (hi - lo) + lo

    angle = uniform(-12, 12) * math.pi / 180
    scale = uniform(0.85, 1.15)
    shear = uniform(-0.15, 0.15)
    s = AUGMENT_SHIFT_PX
    tx, ty = uniform(-s, s) * 2 / 28, uniform(-s, s) * 2 / 28
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, tx], 1),
                         torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    choice = torch.rand(b, generator=generator)
    thick = choice < 1 / 3
    thin = choice > 5 / 6
    if thick.any():
        out[thick] = F.max_pool2d(out[thick], 3, 1, 1) * 0.85 + out[thick] * 0.15
    if thin.any():
        out[thin] = -F.max_pool2d(-out[thin], 3, 1, 1) * 0.5 + out[thin] * 0.5
    out = degrade_low_res(out.clamp_(0, 1), generator)  # ~12% become low-res scans (augment.py)
    return out.clamp_(0, 1)


@torch.no_grad()
def evaluate(model: Network, images: np.ndarray | torch.Tensor, labels: np.ndarray,
             batch_size: int = 1000, device: torch.device | None = None,
             between_batches: Callable[[], None] | None = None) -> dict:
    """Accuracy, mean loss, per-class accuracy, confusion matrix, predictions and each
    prediction's probability ("confidence"). between_batches() is called before each
    batch (the lab's training process reads its commands there; it may raise to stop)."""
    device = device or next(model.parameters()).device
    x = images if isinstance(images, torch.Tensor) else to_tensor(images)
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    model.eval()
    preds, confidences, loss_sum = [], [], 0.0
    n_classes = 10  # at least the ten digits; more when the network has more outputs
    for start in range(0, len(x), batch_size):
        if between_batches is not None:
            between_batches()
        xb = x[start:start + batch_size].to(device)
        yb = y[start:start + batch_size].to(device)
        logits = model(xb)
        n_classes = max(n_classes, int(logits.shape[1]))
        loss_sum += F.cross_entropy(logits, yb, reduction="sum").item()
        top = probabilities(logits).max(1)
        preds.append(top.indices.cpu())
        confidences.append(top.values.cpu())
    pred = torch.cat(preds).numpy() if preds else np.zeros(0, np.int64)
    truth = y.numpy()
    confusion = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(confusion, (truth, pred), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(1), 1)
    return {
        "accuracy": float((pred == truth).mean()) if len(truth) else float("nan"),
        "loss": loss_sum / max(len(truth), 1),
        "per_class_accuracy": per_class.tolist(),
        "confusion": confusion.tolist(),
        "predictions": pred,
        "confidence": (torch.cat(confidences).numpy() if confidences
                       else np.zeros(0, np.float32)),
        "count": int(len(truth)),
    }


def _optimizer(model: torch.nn.Module, config: TrainConfig, steps: int
               ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """(optimizer, scheduler or None) for the config; ValueError for unknown names."""
    params = [p for p in model.parameters() if p.requires_grad]  # frozen layers stay as they are
    opt: torch.optim.Optimizer
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=config.lr, momentum=config.sgd_momentum,
                              weight_decay=config.weight_decay)
    elif config.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=config.lr, betas=(config.adam_beta1, 0.999),
                               weight_decay=config.weight_decay)
    else:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {config.optimizer!r}")
    if config.schedule == "onecycle":
        # Adam's beta1 cycles around its setting (0.85-0.95 for the usual 0.9, torch's own
        # default); SGD's momentum stays what it is set to (torch would cycle a momentum
        # of 0 up to 0.95 behind the user's back).
        beta1 = config.adam_beta1 if config.optimizer == "adam" else 0.9
        return opt, torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=config.lr, total_steps=config.epochs * steps,
            cycle_momentum=config.optimizer == "adam",
            base_momentum=max(0.0, beta1 - 0.05), max_momentum=min(0.999, beta1 + 0.05))
    if config.schedule != "constant":
        raise ValueError(f"schedule must be 'onecycle' or 'constant', got {config.schedule!r}")
    return opt, None


def _share(n: int, parallel: Parallel | None) -> int:
    """This process's share of n (all of it without a parallel run)."""
    return max(1, math.ceil(n / parallel.world)) if parallel else n


def one_image_cannot_train(arch: Architecture) -> bool:
    """Whether a training batch of a single image cannot run through this network: a batch
    norm layer that sees one value per channel for one image (after a dense layer, or on
    1x1 maps) has no batch to take its mean and variance over (torch: "Expected more than
    1 value per channel when training")."""
    try:
        infos = summarize(arch)
    except ArchitectureError:  # said where the network is built
        return False
    return any(i.kind == "batchnorm" and int(np.prod(i.in_shape[1:], dtype=np.int64)) == 1
               for i in infos)


def _drops_one_image(arch: Architecture, config: TrainConfig) -> bool:
    """Whether a batch of one image is left out: with outlier exposure every batch also
    holds at least one drawn non-digit, so batch norm always sees two pictures."""
    return config.outlier_exposure == 0 and one_image_cannot_train(arch)


def _steps(images: int, batch_size: int, parallel: Parallel | None,
           drop_one: bool = False) -> int:
    """Optimisation steps per epoch in each process. drop_one: a last batch of a single
    image is left out (batch norm cannot train on it); the order is shuffled every epoch,
    so it is another image each time and none is never trained on."""
    share, size = _share(images, parallel), _share(batch_size, parallel)
    steps = max(1, math.ceil(share / size))
    if drop_one and steps > 1 and share % size == 1:
        steps -= 1
    return steps


def steps_per_epoch(arch: Architecture, images: int, config: TrainConfig) -> int:
    """How many batches one epoch of train() has (one process)."""
    return _steps(images, config.batch_size, None, _drops_one_image(arch, config))


def batch_problem(arch: Architecture, config: TrainConfig, images: int | None = None,
                  processes: int = 1) -> str | None:
    """Why this network cannot train with these batches, in words (None when it can):
    batch norm after a dense layer with one image in every batch (a batch size of 1, or
    of 1 per process, or a single training image) and no outlier exposure."""
    if not _drops_one_image(arch, config):
        return None
    size = math.ceil(config.batch_size / max(1, processes))
    if size == 1:
        per = f" per process ({config.batch_size} over {processes})" if processes > 1 else ""
        return (f"a batch of 1 image{per} cannot train this network: its batch norm after a "
                "dense layer normalises over the images of a batch and needs at least 2 "
                "images; use a batch size of 2 or more (or outlier exposure, which adds "
                "drawn non-digits to every batch)")
    if images is not None and math.ceil(images / max(1, processes)) == 1:
        return ("batch norm after a dense layer needs at least 2 images per batch to "
                "normalise over; train on 2 images or more")
    return None


def uses_bfloat16(config: TrainConfig, device: str) -> bool:
    """Whether a run of these settings on this device computes its forward pass in bfloat16."""
    from ..basics.machine import bfloat16_forward

    return bfloat16_forward(config.bfloat16, device)


def forward_precision(config: TrainConfig, device: torch.device) -> contextlib.AbstractContextManager:
    """The forward pass's autocast: bfloat16 when asked for and native here, else none."""
    if uses_bfloat16(config, device.type):
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass
class _Run:
    """What every batch of a training run needs (the data on the host, the device, the
    optimizer and the callbacks)."""

    model: Network
    net: torch.nn.Module  # what runs the forward pass: the model, or its DDP wrapper
    config: TrainConfig
    x: torch.Tensor
    y: torch.Tensor
    device: torch.device
    gen: torch.Generator
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler | None
    on_batch: Callable[[int, int, float], None] | None
    should_stop: Callable[[], bool] | None
    watch: DivergenceWatch = field(default_factory=DivergenceWatch)  # for the whole run
    outliers: torch.Tensor | None = None  # outlier exposure's pictures (N, 1, 28, 28)
    parallel: Parallel | None = None
    drop_one: bool = False  # a last batch of one image is left out (batch norm)

    @property
    def batch_size(self) -> int:
        """Images per step in this process (a share of the batch in a parallel run)."""
        return _share(self.config.batch_size, self.parallel)

    @property
    def steps(self) -> int:
        return _steps(len(self.x), self.config.batch_size, self.parallel, self.drop_one)

    def order(self, epoch: int) -> torch.Tensor:
        if self.parallel is None:
            return torch.randperm(len(self.x), generator=self.gen)
        return self.parallel.share(len(self.x), self.config.seed, epoch)

    def batch(self, epoch: int, b: int, idx: torch.Tensor, stop: bool = False) -> tuple[float, int]:
        """One optimisation step: (loss, right answers). _NotFinite before a NaN step;
        KeyboardInterrupt when stop (in a parallel run: any process's) is asked."""
        xb, yb = self.x[idx], self.y[idx]
        if self.config.augment:
            xb = augment_batch(xb, self.gen)
        n_in = len(yb)
        if self.outliers is not None:  # outlier exposure: non-digits in the same forward pass
            from ..reading.verdict import OE_BATCH_FRACTION
            pick = torch.randint(len(self.outliers), (max(1, round(n_in * OE_BATCH_FRACTION)),),
                                 generator=self.gen)
            ob = self.outliers[pick]
            xb = torch.cat([xb, augment_batch(ob, self.gen) if self.config.augment else ob])
        xb, yb = xb.to(self.device), yb.to(self.device)
        if self.device.type == "cpu":  # channels last: ~1.8x faster convolutions on CPU
            xb = xb.contiguous(memory_format=torch.channels_last)
        with forward_precision(self.config, self.device):
            logits_all = self.net(xb).float()
        logits = logits_all[:n_in]
        loss = F.cross_entropy(logits, yb)
        loss_value = loss.item()  # the digits' loss is what is reported
        if self.outliers is not None:
            from ..reading.verdict import outlier_exposure_loss
            loss = loss + self.config.outlier_exposure * outlier_exposure_loss(logits_all[n_in:])
            if not math.isfinite(loss.item()):
                loss_value = loss.item()
        where = f"in epoch {epoch}, batch {b + 1}"
        problem = None
        if not math.isfinite(loss_value):  # a NaN step would ruin every weight
            problem = f"the loss became {loss_value} {where}"
        else:
            blown_up = self.watch.add(loss_value)  # finite but 1,000x its lowest: diverged
            problem = f"{blown_up} {where}" if blown_up else None
        if self.parallel is not None:
            problem, stop = self.parallel.agree(problem, stop, where)
        if problem:
            raise _NotFinite(problem)
        if stop:
            raise KeyboardInterrupt
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        if self.sched is not None:
            self.sched.step()
        return loss_value, int((logits.argmax(1) == yb).sum().item())

    def epoch(self, epoch: int) -> tuple[float, float]:
        """One pass over the training images: (mean loss, accuracy)."""
        self.net.train()
        _keep_frozen_statistics(self.model)
        size = self.batch_size
        order = self.order(epoch)
        loss_sum, correct, seen = 0.0, 0.0, 0.0  # floats: a parallel run adds them up
        for b in range(self.steps):
            stop = bool(self.should_stop and self.should_stop())
            if stop and self.parallel is None:
                raise KeyboardInterrupt
            idx = order[b * size:(b + 1) * size]
            loss_value, right = self.batch(epoch, b, idx, stop)
            loss_sum += loss_value * len(idx)
            correct += right
            seen += len(idx)
            if self.on_batch:
                self.on_batch(b, self.steps, loss_value)
        if self.parallel is not None:
            from .distributed import average_batch_norm_statistics

            average_batch_norm_statistics(self.model, self.parallel.world, self.parallel.cuda)
            loss_sum, correct, seen = self.parallel.total(loss_sum, correct, seen)
        if not _weights_finite(self.model):  # the epoch's last step; a finite loss can't tell
            raise _NotFinite(f"the weights became NaN or infinite in epoch {epoch}")
        return loss_sum / seen, correct / seen


def _keep_frozen_statistics(model: Network) -> None:
    """A batch norm layer whose weights are frozen (fine-tuning only the last layer) keeps
    its running statistics too: it normalises as it did when its weights were learned."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            params = list(module.parameters())
            if params and not any(p.requires_grad for p in params):
                module.eval()


def train(model: Network, train_images: np.ndarray, train_labels: np.ndarray,
          config: TrainConfig, test_images: np.ndarray | None = None,
          test_labels: np.ndarray | None = None,
          on_batch: Callable[[int, int, float], None] | None = None,
          on_epoch: Callable[[EpochResult, Network], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          device: torch.device | None = None, parallel: Parallel | None = None) -> TrainResult:
    """Train in place. on_batch(batch_index, batches_per_epoch, loss); on_epoch(result, model).

    Stops early (result.interrupted) when should_stop() is true or on KeyboardInterrupt;
    the model then holds the weights of the last complete epoch. Also stops (result.diverged
    says why) when the loss or the weights become NaN or infinite, with the same weights:
    on_epoch is never given a model holding non-finite weights.

    parallel: this process's part of a multi-process run. Every process calls train with
    the same arguments; the model is wrapped in DistributedDataParallel, each process
    trains on its share of each epoch, and only the leader (rank 0) evaluates and gets
    on_batch and on_epoch, while the others wait for it.
    """
    problem = batch_problem(model.arch, config, len(train_images),
                            parallel.world if parallel else 1)
    if problem:
        raise ValueError(problem)
    drop_one = _drops_one_image(model.arch, config)
    device = device or pick_device()
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed + (parallel.rank if parallel else 0))
    model.to(device)
    if device.type == "cpu":
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks memory_format
    net: torch.nn.Module = model
    leader = parallel is None or parallel.leader
    if parallel is not None:
        from .distributed import wrap_for_parallel

        net = wrap_for_parallel(model, parallel, device)
        if not leader:
            on_batch = on_epoch = None
    x_all = to_tensor(train_images)
    y_all = torch.as_tensor(np.asarray(train_labels, dtype=np.int64))
    x_test = to_tensor(test_images) if test_images is not None else None
    opt, sched = _optimizer(net, config, _steps(len(x_all), config.batch_size, parallel,
                                                drop_one))
    outliers = None
    if config.outlier_exposure > 0:  # from the training stream only
        from ..reading.outliers import training_outliers
        from ..reading.verdict import outlier_pool_size
        # one pool for every seed, like the training images (made once, then cached): the
        # run's seed picks which of them go into each batch
        outliers = to_tensor(training_outliers(outlier_pool_size(len(x_all)),
                                               config.outlier_dataset))
    run = _Run(model, net, config, x_all, y_all, device, gen, opt, sched, on_batch, should_stop,
               outliers=outliers, parallel=parallel, drop_one=drop_one)

    result = TrainResult()
    started = time.perf_counter()
    last_good = {k: v.detach().clone() for k, v in model.state_dict().items()}
    try:
        for epoch in range(1, config.epochs + 1):
            t0 = time.perf_counter()
            train_loss, train_acc = run.epoch(epoch)
            test_loss = test_acc = None
            if x_test is not None and test_labels is not None and leader:
                metrics = evaluate(model, x_test, test_labels, device=device)
                test_loss, test_acc = metrics["loss"], metrics["accuracy"]
            epoch_result = EpochResult(epoch, train_loss, train_acc, test_loss, test_acc,
                                       time.perf_counter() - t0)
            result.epochs.append(epoch_result)
            last_good = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if on_epoch:
                on_epoch(epoch_result, model)
            if parallel is not None:
                import torch.distributed as dist

                dist.barrier()  # the others wait while the leader evaluates and saves
    except KeyboardInterrupt:
        result.interrupted = True
        model.load_state_dict(last_good)
    except _NotFinite as exc:
        result.diverged = str(exc)
        model.load_state_dict(last_good)
    finally:
        model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]  # as above
        model.to("cpu")
        model.eval()
        result.seconds = time.perf_counter() - started
    return result
