"""Writing an instance: a folder (instance.toml + CSV, with the engine's marker) or one .xlsx workbook.

Both are written whole or not at all and never over something the engine did not write
(:mod:`allocator.atomic`): an instance folder carries ``.allocator.json``, a workbook says so in its
document properties, so a later write may replace them and nothing else.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from allocator import __version__
from allocator.atomic import MARKER, WORKBOOK_KEYWORDS, OutputError, check_target, prepare_parent, write_dir_atomically
from allocator.instance.load import load
from allocator.instance.read import POLICY_SHEET, TOML_FILE, flatten
from allocator.instance.tables import csv_frame, frames
from allocator.instance.values import Instance


def target_form(path: str | os.PathLike[str]) -> str:
    """``xlsx`` or ``folder``: the form an instance written to ``path`` takes; OutputError for neither.

    A target is a folder (no suffix) or an ``.xlsx`` workbook: ``out.csv`` would be a folder named like a
    file, so it is refused.
    """
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        return "xlsx"
    if p.suffix and not p.is_dir():
        raise OutputError(f"{p}: an instance is written to a folder (a name without a suffix) or an .xlsx "
                          f"workbook, not a '{p.suffix}' file")
    return "folder"


def write_folder(instance: Instance, path: str | os.PathLike[str]) -> None:
    """Write ``instance`` as a folder: instance.toml, one CSV per table and the engine's marker."""
    import tomli_w

    def fill(tmp: Path) -> None:
        (tmp / TOML_FILE).write_text(tomli_w.dumps(instance.settings_dict()), encoding="utf-8")
        for name, df in frames(instance).items():
            csv_frame(df).to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
        (tmp / MARKER).write_text(json.dumps({"written_by": "allocator", "kind": "instance",
                                              "engine_version": __version__}) + "\n", encoding="utf-8")

    write_dir_atomically(path, fill)


def write_xlsx(instance: Instance, path: str | os.PathLike[str]) -> None:
    """Write ``instance`` as one workbook: a policy sheet and one sheet per table."""
    import openpyxl

    target = Path(path).absolute()
    if target.exists() or target.is_symlink():
        check_target(target, force=True, folder=False)  # replace only a workbook the engine wrote
    wb = openpyxl.Workbook()
    wb.properties.creator = "allocator"
    wb.properties.keywords = WORKBOOK_KEYWORDS
    ws = wb.active
    ws.title = POLICY_SHEET
    ws.append(["key", "value"])
    for k, v in flatten(instance.settings_dict()):
        ws.append([k, v])
    for name, df in frames(instance).items():
        sh = wb.create_sheet(name)
        sh.append(list(df.columns))
        for row in df.itertuples(index=False):
            sh.append([_py(v) for v in row])
    prepare_parent(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _py(v: object) -> object:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def convert(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, force: bool = False) -> Instance:
    """Convert between the folder and workbook forms (chosen by ``dst``'s suffix).

    An existing ``dst`` is replaced only with ``force`` and only when the engine wrote it
    (:class:`~allocator.atomic.OutputError` otherwise).
    """
    form = target_form(dst)
    check_target(dst, force=force, folder=form == "folder")
    instance = load(src)
    if form == "xlsx":
        write_xlsx(instance, dst)
    else:
        write_folder(instance, dst)
    return instance
