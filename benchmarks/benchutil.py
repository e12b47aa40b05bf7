"""Shared helpers of the benchmarks: machine description, child processes with peak memory, JSON output."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
PYTHON = sys.executable


def machine() -> dict[str, Any]:
    """The machine and library versions a benchmark ran with.

    Returns
    -------
    dict
        Date, host CPU model, cores (``nproc``), memory, Python and library versions.
    """
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    libs: dict[str, str | None] = {}
    for lib in ("highspy", "pulp", "numpy", "scipy", "pandas"):
        try:
            libs[lib] = version(lib)
        except PackageNotFoundError:
            libs[lib] = None
    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu, "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": mem_gib, "python": platform.python_version(), "platform": platform.platform(), **libs,
        "loadavg": os.getloadavg(),
    }


def rss_now_mib() -> float:
    """Resident set size of this process now (``VmRSS``), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mib(pid: int | str = "self") -> float:
    """Peak resident set size of a process so far (``VmHWM`` of ``/proc/<pid>/status``), in MiB.

    Not ``ru_maxrss``: Linux carries ``ru_maxrss`` over ``exec``, so a child started by a big
    parent (``fork``/``vfork`` then ``exec``) reports at least the parent's RSS at that moment.
    ``VmHWM`` is the high-water mark of the process's own address space.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    if pid == "self":
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return float("nan")


def run_child(args: list[str], timeout: float, log: Path | None = None) -> dict[str, Any]:
    """Run ``python <args>`` in a fresh process; stop it (and its group) after ``timeout`` seconds.

    The child's peak RSS is its ``VmHWM``, read from ``/proc`` while it runs (every 50 ms; the mark
    only grows), so a child that is killed still reports how much memory it held.  ``os.wait4``'s
    ``ru_maxrss`` is kept too, but it includes the parent's RSS at spawn (see :func:`peak_rss_mib`).

    Parameters
    ----------
    args : list of str
        Arguments after the Python interpreter.
    timeout : float
        Wall-clock seconds before the child's process group is killed.
    log : pathlib.Path, optional
        File receiving the child's stdout and stderr (else discarded).

    Returns
    -------
    dict
        ``wall_s``, ``returncode``, ``killed`` (bool), ``peak_rss_mib`` (``VmHWM``),
        ``wait4_maxrss_mib``.
    """
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    start = time.perf_counter()
    proc = subprocess.Popen([PYTHON, *args], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                            start_new_session=True)
    killed = False
    status = 0
    rusage = None
    hwm = float("nan")
    try:
        while True:
            mark = peak_rss_mib(proc.pid)
            if mark == mark:  # not nan: the child is still there
                hwm = mark if hwm != hwm else max(hwm, mark)
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                killed = True
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    finally:
        proc.returncode = os.waitstatus_to_exitcode(status) if rusage is not None else None
        if log:
            out.close()  # type: ignore[union-attr]
    return {"wall_s": time.perf_counter() - start, "returncode": proc.returncode, "killed": killed,
            "peak_rss_mib": hwm if hwm == hwm else None,
            "wait4_maxrss_mib": rusage.ru_maxrss / 1024 if rusage is not None else None}


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` and return its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    return path


def ensure_instance(stations: int, seed: int, workdir: Path) -> Path:
    """The national instance folder of ``stations`` and ``seed`` under ``workdir`` (generated if absent)."""
    folder = workdir / f"national-{stations}-s{seed}"
    if not (folder / "stations.csv").exists():
        sys.path.insert(0, str(HERE))
        import national

        national.write(folder, stations, seed, check=False)
    return folder
