"""The files a process holds open, read from /proc/<pid>/fd (Linux): real handles, counted
as the kernel sees them."""
from __future__ import annotations

import os


def open_files(pid: int | str, prefix: str) -> list[str]:
    """The open files of process ``pid`` whose path starts with ``prefix`` (a SQLite file and
    its -wal and -shm companions share the prefix), one entry per descriptor."""
    found = []
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:  # closed between listing and reading
            continue
        if target.startswith(prefix):
            found.append(target)
    return found
