"""Training with several processes: torch.distributed DistributedDataParallel.

`cnnviz train --nproc N` starts N processes on this machine (127.0.0.1, a free port);
under `torchrun` (several machines) the processes come from torchrun and each one runs
`train_rank` itself. Every process holds the same network (DDP broadcasts rank 0's
starting weights and averages the gradients of every step), trains on its own share of
each epoch (`DistributedSampler`, reshuffled per epoch with `set_epoch`), and rank 0
evaluates on the test set and writes the weights file after each epoch.

- Backend: gloo on the CPU (no `device_ids`), NCCL on CUDA GPUs (one GPU per process,
  `device_ids=[local_rank]`).
- The batch size is the whole step's: each of N processes takes batch_size / N images,
  so a step averages the same number of images as one process would.
- Batch norm: on GPUs the layers become `SyncBatchNorm` (the batch statistics of the
  whole step). `SyncBatchNorm` does not work on the CPU: there each process normalises
  its own part of the batch, `broadcast_buffers` is off so each keeps its own running
  mean and variance, and after every epoch they are averaged over the processes
  (all_reduce) before rank 0 evaluates and saves, so the saved statistics come from all
  the training images and not from rank 0's half alone.
- A loss that is not finite on any process stops every process at the same step (a
  one-number all_reduce before the backward pass), so none waits forever.
"""

from __future__ import annotations

import math
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

__all__ = ["DistributedSetup", "DistributedTrainingError", "free_port", "run_local",
           "train_rank"]


class DistributedTrainingError(RuntimeError):
    """A multi-process run that could not finish; the message says why in words."""


@dataclass(frozen=True)
class DistributedSetup:
    """What every process needs (picklable)."""

    architecture: dict
    config: dict  # TrainConfig as a dict
    dataset: str
    data_dir: str | None
    out: str
    card: dict
    limit: int | None = None
    device: str = "cpu"  # "cpu" or "cuda"
    shard_log_dir: str | None = None  # each rank writes the indices it trained on (tests)
    timeout_s: float = 600.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _say(rank: int, text: str, file=None) -> None:
    if rank == 0:
        print(text, file=file or sys.stdout, flush=True)


def train_rank(setup: DistributedSetup) -> dict:
    """Run this process's part; RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (and
    LOCAL_RANK) come from the environment (torchrun or run_local sets them). Rank 0
    returns the last epoch's figures; DistributedTrainingError in words on failure."""
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data.distributed import DistributedSampler

    from .data import DataError, load_split
    from .files import FileProblem
    from .models import Architecture, build_model
    from .training import TrainConfig, _optimizer, augment_batch, evaluate, to_tensor
    from .weights import save_weights

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    cuda = setup.device == "cuda"
    if cuda:
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
        cpus = os.cpu_count() or 1
        torch.set_num_threads(max(1, cpus // local_world))  # the machine's cores, shared
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world,
                            timeout=timedelta(seconds=setup.timeout_s))
    try:
        config = TrainConfig(**setup.config)
        arch = Architecture.from_dict(setup.architecture)
        try:
            x_train, y_train = load_split(setup.dataset, "train", setup.data_dir)
            x_test, y_test = load_split(setup.dataset, "test", setup.data_dir)
        except DataError as exc:
            raise DistributedTrainingError(str(exc)) from None
        if setup.limit is not None:
            x_train, y_train = x_train[:setup.limit], y_train[:setup.limit]
        x = to_tensor(x_train)
        y = torch.as_tensor(np.asarray(y_train, dtype=np.int64))
        model = build_model(arch, seed=config.seed).to(device)
        if cuda:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        else:
            model = model.to(memory_format=torch.channels_last)
        ddp = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None,
                                      **_buffer_sync(cuda))
        sampler = DistributedSampler(range(len(x)), num_replicas=world, rank=rank,
                                     shuffle=True, seed=config.seed)
        per_process = max(1, math.ceil(config.batch_size / world))
        steps = max(1, math.ceil(len(sampler) / per_process))
        opt, sched = _optimizer(ddp, config, steps)
        gen = torch.Generator().manual_seed(config.seed + rank)  # augmentation differs
        _say(rank, f"Training {arch.name} with {world} processes ({'NCCL' if cuda else 'gloo'}"
                   f"), {len(sampler):,} of {len(x):,} images each per epoch, batch "
                   f"{per_process} per process ({per_process * world} a step)")
        started = time.perf_counter()
        epochs = []
        for epoch in range(1, config.epochs + 1):
            t0 = time.perf_counter()
            sampler.set_epoch(epoch)
            order = torch.tensor(list(iter(sampler)), dtype=torch.int64)
            if setup.shard_log_dir:
                np.save(Path(setup.shard_log_dir) / f"rank{rank}-epoch{epoch}.npy",
                        order.numpy())
            ddp.train()
            loss_sum, seen = 0.0, 0
            for b in range(steps):
                idx = order[b * per_process:(b + 1) * per_process]
                xb, yb = x[idx], y[idx]
                if config.augment:
                    xb = augment_batch(xb, gen)
                xb, yb = xb.to(device), yb.to(device)
                if not cuda:
                    xb = xb.contiguous(memory_format=torch.channels_last)
                loss = F.cross_entropy(ddp(xb), yb)
                finite = torch.tensor([1.0 if math.isfinite(loss.item()) else 0.0],
                                      device=device)
                dist.all_reduce(finite, op=dist.ReduceOp.MIN)  # every process stops together
                if finite.item() < 1:
                    raise DistributedTrainingError(
                        f"the loss became NaN or infinite in epoch {epoch}, batch {b + 1} "
                        f"(the learning rate {config.lr:g} is probably too high)")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                loss_sum += loss.item() * len(idx)
                seen += len(idx)
            _average_batch_norm_statistics(model, world, cuda)
            totals = torch.tensor([loss_sum, float(seen)], dtype=torch.float64, device=device)
            dist.all_reduce(totals)
            train_loss = float(totals[0] / totals[1])
            if rank == 0:
                metrics = evaluate(model, x_test, y_test, device=device)
                result = {"epoch": epoch, "train_loss": train_loss,
                          "test_accuracy": metrics["accuracy"], "test_loss": metrics["loss"],
                          "seconds": time.perf_counter() - t0}
                epochs.append(result)
                print(f"epoch {epoch:>3}/{config.epochs}  train loss {train_loss:.4f}  test "
                      f"loss {metrics['loss']:.4f}  test acc {metrics['accuracy']:.4f}  "
                      f"{result['seconds']:.1f} s", flush=True)
                card = {**setup.card, "epochs": epoch, "test_accuracy": metrics["accuracy"],
                        "test_loss": metrics["loss"], "processes": world,
                        "training_seconds": round(time.perf_counter() - started, 1),
                        "seconds_per_epoch": [round(e["seconds"], 1) for e in epochs]}
                model.to(memory_format=torch.contiguous_format)
                try:
                    save_weights(model, setup.out, card)
                except (FileProblem, OSError) as exc:
                    raise DistributedTrainingError(f"cannot write {setup.out}: {exc}") from None
                finally:
                    if not cuda:
                        model.to(memory_format=torch.channels_last)
            dist.barrier()  # the others wait while rank 0 evaluates and saves
        return {"epochs": epochs, "seconds": time.perf_counter() - started}
    finally:
        dist.destroy_process_group()


def _buffer_sync(cuda: bool) -> dict:
    """No copying of rank 0's buffers at every forward on the CPU (each process keeps its
    own batch-norm statistics until they are averaged); newer torch names the option
    forward_sync_buffers, older broadcast_buffers (the start is synced either way)."""
    import inspect

    from torch.nn.parallel import DistributedDataParallel

    names = inspect.signature(DistributedDataParallel).parameters
    key = "forward_sync_buffers" if "forward_sync_buffers" in names else "broadcast_buffers"
    return {key: cuda}


def _average_batch_norm_statistics(model, world: int, cuda: bool) -> None:
    """CPU: each process's running mean and variance, averaged over the processes."""
    import torch.distributed as dist
    from torch import nn

    if cuda:
        return  # SyncBatchNorm already measured the whole step
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            for buffer in (module.running_mean, module.running_var):
                dist.all_reduce(buffer)
                buffer.div_(world)


def _local_worker(rank: int, world: int, port: int, setup: DistributedSetup, errors) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      LOCAL_WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    try:
        train_rank(setup)
    except DistributedTrainingError as exc:
        errors.put((rank, str(exc)))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - said in words by the parent
        errors.put((rank, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
        sys.exit(1)


def run_local(setup: DistributedSetup, nproc: int) -> None:
    """Start nproc processes on this machine and wait for them; the first failure is a
    DistributedTrainingError (the others are ended)."""
    import multiprocessing as mp

    if setup.device == "cuda":
        import torch

        if torch.cuda.device_count() < nproc:
            raise DistributedTrainingError(f"--nproc {nproc} with --device cuda needs {nproc} "
                                           f"GPUs; this machine has "
                                           f"{torch.cuda.device_count()}")
    ctx = mp.get_context("spawn")
    errors = ctx.Queue()
    port = free_port()
    processes = [ctx.Process(target=_local_worker, args=(rank, nproc, port, setup, errors),
                             name=f"cnnviz-train-rank{rank}") for rank in range(nproc)]
    for p in processes:
        p.start()
    try:
        while any(p.is_alive() for p in processes):
            for p in processes:
                p.join(0.2)
            if any(p.exitcode not in (None, 0) for p in processes):
                break  # one failed: the others would wait for it forever
    except KeyboardInterrupt:
        for p in processes:
            p.terminate()
        raise
    failed = [p for p in processes if p.exitcode not in (None, 0)]
    for p in processes:
        if p.is_alive():
            p.terminate()
        p.join(5)
    if failed:
        message = None
        deadline = time.monotonic() + 2.0
        while message is None and time.monotonic() < deadline:
            try:
                message = errors.get(timeout=0.2)[1]
            except Exception:  # noqa: BLE001 - queue.Empty
                continue
        raise DistributedTrainingError(message or f"process {failed[0].name} ended with exit "
                                                  f"code {failed[0].exitcode}")


def setup_from(arch, config, dataset: str, data_dir, out, card: dict, limit=None,
               device: str = "cpu", shard_log_dir=None) -> DistributedSetup:
    return DistributedSetup(architecture=arch.to_dict(), config=asdict(config),
                            dataset=dataset, data_dir=None if data_dir is None else str(data_dir),
                            out=str(out), card=card, limit=limit, device=device,
                            shard_log_dir=None if shard_log_dir is None else str(shard_log_dir))
