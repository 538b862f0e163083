"""Training with several processes: torch.distributed DistributedDataParallel.

There is one training loop (cnnviz.core.training.loop.train); a multi-process run is that loop
in every process, given its `Parallel` place, as nanoGPT's train.py runs alone or under
DDP. `cnnviz train --nproc N` starts N copies of the same command on this machine
(`run_local`: 127.0.0.1, a free port), each with RANK and WORLD_SIZE set as torchrun sets
them; under `torchrun` (several machines) the processes come from torchrun. Either way
every process reads the same options (--init, --hold-out, --outlier-exposure, ...), joins
the group (`join`) and trains; rank 0 evaluates and writes the weights file after each
epoch.

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
- A loss that is not finite (or that blew up) on any process, or a stop asked of any
  process, stops every process at the same step (one small all_reduce before the
  backward pass), so none waits forever.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

__all__ = ["DistributedTrainingError", "Place", "average_batch_norm_statistics", "free_port",
           "join", "launched_process", "leave", "nproc_problem", "process_place", "run_local",
           "wrap_for_parallel"]

# How long a process waits for the others at a collective step before giving up.
TIMEOUT_S = 600.0


class DistributedTrainingError(RuntimeError):
    """A multi-process run that could not finish; the message says why in words."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Place:
    """This process's place in a group, as torchrun (or run_local) describes it in the
    environment."""

    rank: int
    world: int
    local_rank: int
    local_world: int
    master_addr: str
    master_port: int


_GROUP_HINT = ("torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and "
               "MASTER_PORT for each process; unset them to train in one process")


def _whole(name: str, default: int | None = None, lowest: int = 0,
           below: int | None = None) -> int:
    text = os.environ.get(name)
    if text is None and default is not None:
        return default
    try:
        value = int((text or "").strip())
    except ValueError:
        raise DistributedTrainingError(f"the environment's {name}={text} is not a whole "
                                       f"number; {_GROUP_HINT}") from None
    if value < lowest or (below is not None and value >= below):
        upper = f" and below {below}" if below is not None else ""
        raise DistributedTrainingError(f"the environment's {name}={value} must be at least "
                                       f"{lowest}{upper}; {_GROUP_HINT}")
    return value


def process_place() -> Place | None:
    """This process's place in a multi-process run, read from the environment and checked
    (DistributedTrainingError in one line when a variable is not a number, out of range,
    or set without the others), or None: one process on its own (none set, or a group of
    one)."""
    env = os.environ
    if not any(name in env for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")):
        return None
    missing = [name for name in ("RANK", "WORLD_SIZE") if name not in env]
    if missing:
        given = ", ".join(f"{n}={env[n]}" for n in ("RANK", "WORLD_SIZE", "LOCAL_RANK",
                                                    "LOCAL_WORLD_SIZE") if n in env)
        raise DistributedTrainingError(f"the environment sets {given} but not "
                                       f"{' or '.join(missing)}; {_GROUP_HINT}")
    world = _whole("WORLD_SIZE", lowest=1)
    rank = _whole("RANK", below=world)
    local_world = _whole("LOCAL_WORLD_SIZE", world, lowest=1, below=world + 1)
    local_rank = _whole("LOCAL_RANK", rank % local_world, below=local_world)
    if world == 1:
        return None
    addr = env.get("MASTER_ADDR", "").strip()
    if not addr or "MASTER_PORT" not in env:
        absent = " and ".join(n for n in ("MASTER_ADDR", "MASTER_PORT")
                              if not env.get(n, "").strip())
        raise DistributedTrainingError(f"WORLD_SIZE={world} but the environment has no "
                                       f"{absent} (where the processes meet); {_GROUP_HINT}")
    port = _whole("MASTER_PORT", lowest=1, below=65536)
    return Place(rank, world, local_rank, local_world, addr, port)


def launched_process() -> bool:
    """Whether this process is one of several (started by torchrun or by run_local);
    DistributedTrainingError when the environment says so in a way that makes no sense."""
    return process_place() is not None


def nproc_problem(nproc: int, device_type: str) -> str | None:
    """Why --nproc N cannot run here, in words; None when it can. More processes than CPU
    cores (or GPUs) only make training slower and can exhaust the machine."""
    if nproc < 1:
        return f"--nproc must be at least 1 (got {nproc})"
    if device_type == "mps":
        return "--nproc runs on the CPU (gloo) or CUDA GPUs (NCCL), not on MPS; use --device cpu"
    if device_type == "cuda":
        import torch

        gpus = torch.cuda.device_count()
        if nproc > gpus:
            return f"--nproc {nproc} with --device cuda needs {nproc} GPUs; this machine has {gpus}"
        return None
    cores = os.cpu_count() or 1
    if nproc > cores:
        return (f"--nproc {nproc} is more than this machine's {cores} CPU core"
                f"{'s' if cores != 1 else ''}; each process needs one (use --nproc {cores} or less)")
    return None


def join(device_type: str):
    """Join the process group RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT describe;
    returns this process's cnnviz.core.training.loop.Parallel. DistributedTrainingError in
    words when the environment or the meeting fails."""
    import torch
    import torch.distributed as dist

    from .loop import Parallel

    place = process_place()
    if place is None:
        raise DistributedTrainingError(f"this process is not one of several; {_GROUP_HINT}")
    cuda = device_type == "cuda"
    try:
        if cuda:
            torch.cuda.set_device(place.local_rank)
        else:  # the machine's cores, shared
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // place.local_world))
        dist.init_process_group("nccl" if cuda else "gloo", rank=place.rank,
                                world_size=place.world, timeout=timedelta(seconds=TIMEOUT_S))
    except (RuntimeError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DistributedTrainingError(
            f"process {place.rank} of {place.world} could not join the others at "
            f"{place.master_addr}:{place.master_port} (local rank {place.local_rank}): "
            f"{first}") from None
    return Parallel(place.rank, place.world, cuda)



def leave() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def wrap_for_parallel(model, parallel, device):
    """The model in DistributedDataParallel (SyncBatchNorm on GPUs); DDP broadcasts rank
    0's starting weights, so every process starts from the same network."""
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel

    if parallel.cuda:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # in place below the top
        return DistributedDataParallel(model, device_ids=[device.index], **_buffer_sync(True))
    return DistributedDataParallel(model, **_buffer_sync(False))


def _buffer_sync(cuda: bool) -> dict:
    """No copying of rank 0's buffers at every forward on the CPU (each process keeps its
    own batch-norm statistics until they are averaged); newer torch names the option
    forward_sync_buffers, older broadcast_buffers (the start is synced either way)."""
    import inspect

    from torch.nn.parallel import DistributedDataParallel

    names = inspect.signature(DistributedDataParallel).parameters
    key = "forward_sync_buffers" if "forward_sync_buffers" in names else "broadcast_buffers"
    return {key: cuda}


def average_batch_norm_statistics(model, world: int, cuda: bool) -> None:
    """CPU: each process's running mean and variance, averaged over the processes."""
    import torch.distributed as dist
    from torch import nn

    if cuda:
        return  # SyncBatchNorm already measured the whole step
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            for buffer in (module.running_mean, module.running_var):
                if buffer is not None:  # always, while it tracks running statistics
                    dist.all_reduce(buffer)
                    buffer.div_(world)


def run_local(argv: list[str], nproc: int, env: dict | None = None) -> int:
    """Run `cnnviz <argv>` in nproc processes on this machine, as torchrun would, and wait.
    Rank 0's output is shown as it comes; another process's error is shown (once) only
    when rank 0 had nothing to say. Returns the exit code: 0, or the first failure's."""
    port = free_port()
    from .parent import PARENT_VARIABLE

    base = {**os.environ, **(env or {}), "WORLD_SIZE": str(nproc),
            "LOCAL_WORLD_SIZE": str(nproc), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
            PARENT_VARIABLE: str(os.getpid())}  # each stops when this process is killed
    processes, logs = [], []
    with tempfile.TemporaryDirectory(prefix="cnnviz-ranks-") as folder:
        for rank in range(nproc):
            log = open(Path(folder) / f"rank{rank}.txt", "w+b")  # noqa: SIM115 (closed below)
            logs.append(log)
            quiet = rank > 0  # the others' lines would repeat rank 0's
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "cnnviz", *argv],
                env={**base, "RANK": str(rank), "LOCAL_RANK": str(rank)},
                stdout=subprocess.DEVNULL if quiet else None, stderr=log if quiet else None))
        try:
            code = _wait_all(processes)
        except KeyboardInterrupt:
            # Ctrl-C reached every process (one process group): they stop together at the
            # next step and rank 0 keeps the last epoch; then wait, but not forever.
            code = _wait_all(processes, deadline=time.monotonic() + 30) or 130
        finally:
            for p in processes:
                if p.poll() is None:
                    p.kill()
                p.wait()
            leader_spoke = (processes[0].returncode or 0) > 0  # (< 0: ended by a signal)
            shown = False
            for rank, log in enumerate(logs):
                if rank and not leader_spoke and not shown and processes[rank].returncode not in (0, None):
                    log.seek(0)
                    lines = [x for x in log.read().decode("utf-8", "replace").splitlines() if x]
                    if lines:
                        print(f"process {rank}: {lines[-1]}", file=sys.stderr)
                        shown = True
                log.close()
    return code


def _wait_all(processes, deadline: float | None = None) -> int:
    """Wait for every process; when one fails, give the others a few seconds to say why
    (a blown-up loss stops them all at the same step), then end them (they would wait
    for it at the next step until the timeout). The first failure's exit code, else 0."""
    while True:
        codes = [p.poll() for p in processes]
        failed = [c for c in codes if c not in (None, 0)]
        if failed:
            grace = time.monotonic() + 5.0
            while time.monotonic() < grace and any(p.poll() is None for p in processes):
                time.sleep(0.05)
            for p in processes:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            return failed[0]
        if all(c == 0 for c in codes):
            return 0
        if deadline is not None and time.monotonic() > deadline:
            return 130
        time.sleep(0.1)
