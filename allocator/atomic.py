"""Write outputs whole or not at all, and never over something the engine did not write.

A directory is filled in a temporary sibling ``.<name>.XXXXXXXX`` (holding a marker with the writer's
process id while it is being filled) and renamed into place.  An existing target is replaced only when
the engine wrote it (an instance folder's marker, a plan's ``manifest.json``, an assignment's
``assignment.json``) and it holds nothing else the engine would not write; a user's folder or file is
never deleted.  Temporaries left by a killed run (the naming pattern *and* the marker of a process that
is gone) are removed by the next write into the same parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

MARKER = ".allocator.json"        # in every instance folder the engine writes
TMP_MARKER = ".allocator-tmp.json"  # in a temporary directory while it is filled: who fills it
# Files whose JSON content shows the engine wrote the folder (the plan/circle manifest, the assignment).
_OWN_JSON = ("manifest.json", "assignment.json")
_OWN_SUFFIXES = (".csv", ".json", ".parquet", ".toml")
# tempfile.mkdtemp's names: the prefix, then 8 characters of this alphabet.
_TMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}$")
WORKBOOK_KEYWORDS = "allocator instance"  # an .xlsx the engine wrote says so in its document properties


class OutputError(ValueError):
    """An output the engine may not write: the target is not its own, or the place is not writable."""


def engine_wrote(path: str | os.PathLike[str]) -> str | None:
    """What the engine wrote at ``path`` (``instance``, ``plan``, ``assignment``, ``workbook``), or None."""
    p = Path(path)
    if p.is_symlink():
        return None
    if p.is_dir():
        for name, kind in ((MARKER, "instance"), ("manifest.json", "plan"), ("assignment.json", "assignment")):
            if _json_object(p / name):
                return kind
        return None
    if p.is_file() and p.suffix.lower() == ".xlsx":
        return "workbook" if _engine_workbook(p) else None
    return None


def foreign_entries(folder: Path) -> list[str]:
    """Entries of an engine-written ``folder`` the engine would not have written there (user files)."""
    out = []
    for e in sorted(folder.iterdir()):
        own = e.name in (MARKER, *_OWN_JSON) or e.suffix in _OWN_SUFFIXES
        if e.is_symlink() or not e.is_file() or not own:
            out.append(e.name)
    return out


def check_target(path: str | os.PathLike[str], *, force: bool = False, folder: bool = True) -> None:
    """Raise :class:`OutputError` unless the engine may write a ``folder`` (or a file) at ``path``.

    A new path needs an existing, writable directory above it.  An existing one needs ``force`` and must
    be an output the engine wrote, of the same form (folder or file), holding nothing the engine did not
    write.
    """
    p = Path(path)
    if p.exists() or p.is_symlink():
        if not force:
            raise OutputError(f"{p} already exists: give --force to replace an output the engine wrote "
                              "(nothing else is ever replaced)")
        _check_replaceable(p, folder)
        return
    anc = p.absolute().parent
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir() or not os.access(anc, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {p}: {anc} is not a writable folder")
    try:  # the permission bits do not tell everything (/proc, a read-only mount): try it
        os.rmdir(tempfile.mkdtemp(prefix=".allocator-probe.", dir=anc))
    except OSError as exc:
        raise OutputError(f"cannot write {p}: {anc} is not a writable folder ({exc.strerror or exc})") from exc


def _check_replaceable(p: Path, folder: bool) -> None:
    kind = engine_wrote(p)
    if kind is None:
        raise OutputError(f"{p} exists and was not written by the engine (no {MARKER}, manifest.json or "
                          "workbook properties of the engine): it is not replaced")
    if folder != p.is_dir():
        raise OutputError(f"{p} is a {'file' if folder else 'folder'}; the output is a "
                          f"{'folder' if folder else 'file'}: it is not replaced")
    if folder:
        foreign = foreign_entries(p)
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise OutputError(f"{p} holds files the engine did not write ({shown}): it is not replaced")


def clean_stale(parent: Path) -> list[Path]:
    """Remove temporaries of killed runs in ``parent``: the naming pattern, the marker, a process gone."""
    removed: list[Path] = []
    with contextlib.suppress(OSError):
        for e in parent.iterdir():
            if not _TMP_NAME.match(e.name) or e.is_symlink() or not e.is_dir():
                continue
            who = _json_object(e / TMP_MARKER)
            if not who or who.get("host") != socket.gethostname() or _alive(who.get("pid")):
                continue
            shutil.rmtree(e, ignore_errors=True)
            removed.append(e)
    return removed


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return True  # unknown writer: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _json_object(f: Path) -> dict[str, object] | None:
    try:
        if f.is_symlink() or not f.is_file() or f.stat().st_size > 1 << 20:
            return None
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _engine_workbook(p: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(p) as z:
            core = z.read("docProps/core.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return f"<cp:keywords>{WORKBOOK_KEYWORDS}</cp:keywords>" in core


def _mark(tmp: Path) -> None:
    (tmp / TMP_MARKER).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}),
                                  encoding="utf-8")


def prepare_parent(target: Path) -> None:
    """Create ``target``'s parent folders and remove stale temporaries there; OSError -> OutputError."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    clean_stale(target.parent)


def write_dir_atomically(target: str | os.PathLike[str], fill: Callable[[Path], None]) -> None:
    """Call ``fill(tmp)`` on a fresh temporary directory beside ``target``, then move it to ``target``.

    A process killed before the rename leaves at most a hidden ``.<name>.XXXXXXXX`` temporary beside the
    target (removed by the next write there), never a half-written target.  An existing target is
    replaced only once the new one is complete, and only when the engine wrote it
    (:class:`OutputError` otherwise: a folder or file of the user's is never deleted).
    """
    target = Path(target).absolute()
    if target.exists() or target.is_symlink():
        _check_replaceable(target, folder=True)
    prepare_parent(target)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        _mark(tmp)
        os.chmod(tmp, 0o777 & ~_umask())
        fill(tmp)
        (tmp / TMP_MARKER).unlink()
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
            os.rmdir(old)
            target.rename(old)
            _mark(old)  # a kill before the rmtree below leaves a temporary the next write removes
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
