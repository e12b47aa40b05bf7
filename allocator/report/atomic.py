"""Write one report file whole or not at all, and never over a file the engine did not write."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


class ForeignFileError(FileExistsError):
    """The target exists and was not written by this engine: it is left alone."""


def write_file_atomically(target: str | os.PathLike[str], fill: Callable[[Path], None],
                          owned: Callable[[Path], bool] | None = None) -> None:
    """Call ``fill(tmp)`` on a temporary file beside ``target``, then rename it onto ``target``.

    Parameters
    ----------
    target : path-like
    fill : callable
        Writes the whole file at the path it is given.
    owned : callable, optional
        When given and ``target`` exists, ``owned(target)`` must say the engine wrote it, else
        :class:`ForeignFileError` is raised and nothing is written.
    """
    target = Path(target)
    if owned is not None and target.exists() and not owned(target):
        raise ForeignFileError(f"{target} exists and was not written by allocator: not replaced")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        fill(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
