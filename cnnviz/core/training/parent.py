"""A training process's watch on the process that started it (the app's window, or the
launcher of `cnnviz train --nproc N`): when that one is killed, the training process
notices between two batches and stops, instead of running every epoch for nobody.

The rule: on POSIX a process whose parent ends is handed to another (init or a
subreaper) at once, so os.getppid() no longer gives the parent's id; elsewhere, whether
the parent's id still names a running process.
"""

from __future__ import annotations

import os

# The launcher's process id, given to each process it starts (distributed.run_local).
PARENT_VARIABLE = "CNNVIZ_PARENT_PID"


def parent_gone(pid: int) -> bool:
    """Whether the process `pid` that started this one has ended."""
    if os.name == "posix":
        return os.getppid() != pid
    from .run_output import _pid_alive

    return not _pid_alive(pid)


def launcher_pid() -> int | None:
    """The id the launcher gave in the environment (None when there is none, or nonsense:
    then there is nothing to watch)."""
    try:
        pid = int(os.environ.get(PARENT_VARIABLE, ""))
    except ValueError:
        return None
    return pid if pid > 0 else None


def launcher_gone() -> bool:
    """Whether this process was started by a launcher that has ended since."""
    pid = launcher_pid()
    return pid is not None and parent_gone(pid)
