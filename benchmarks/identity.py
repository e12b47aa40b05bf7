"""Are the seed plans byte-identical to those of another commit?  (issue 13: a refactor changes no plan)

For a git commit (default ``3ffbf81``, the commit before the station model moved into
``allocator/station/``), the script exports that commit with ``git archive`` into a temporary
folder, solves ``instances/a-district-2026`` and ``instances/fuzhou-2026`` with ``--seed 0`` in that tree and
in this one (the same interpreter, ``PYTHONPATH`` set to each tree, each tree's own instances), and
compares the two plan folders file by file, byte by byte; ``manifest.json`` is compared without its
``engine_version`` line.  It prints a table and exits 1 on any difference (2 when a solve fails).

Usage::

    .venv/bin/python benchmarks/identity.py [--commit 3ffbf81] [--instances a-district fuzhou]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_COMMIT = "3ffbf81"
DEFAULT_INSTANCES = ("a-district-2026", "fuzhou-2026")
# Run the tree's own cli.py; print where allocator came from so a wrong PYTHONPATH cannot pass unseen.
_RUN = ("import sys, allocator, cli; sys.stderr.write('allocator from ' + allocator.__file__ + '\\n'); "
        "sys.argv = ['allocator'] + sys.argv[1:]; cli.main()")


def export(commit: str, dest: Path) -> str:
    """Write the tree of ``commit`` into ``dest``; return the full commit id."""
    full = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{commit}^{{commit}}"],
                          capture_output=True, text=True, check=True).stdout.strip()
    archive = dest.with_suffix(".tar")
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), full], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    archive.unlink()
    return full


def solve(tree: Path, instance: str, out: Path) -> tuple[int, float, str]:
    """``allocator solve instances/<instance> --out <out> --seed 0`` run from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _RUN, "solve", str(tree / "instances" / instance), "--out", str(out),
                        "--seed", "0"], cwd=tree, env=env, capture_output=True, text=True)
    origin = next((line for line in r.stderr.splitlines() if line.startswith("allocator from ")), "")
    if not origin.startswith(f"allocator from {tree}"):
        raise RuntimeError(f"{tree}: allocator not imported from the tree ({origin or r.stderr[-500:]})")
    return r.returncode, time.perf_counter() - start, r.stderr


def _content(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name == "manifest.json":  # the version of the engine is expected to differ
        data = b"".join(line for line in data.splitlines(keepends=True) if b'"engine_version"' not in line)
    return data


def compare(a: Path, b: Path) -> tuple[int, list[str]]:
    """Number of files and the names of those that differ (or exist on one side only)."""
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    differ = [n for n in names if not ((a / n).is_file() and (b / n).is_file() and _content(a / n) == _content(b / n))]
    return len(names), differ


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commit", default=DEFAULT_COMMIT, help="commit to compare against (default %(default)s)")
    ap.add_argument("--instances", nargs="+", default=list(DEFAULT_INSTANCES))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="identity-") as tmp_:
        tmp = Path(tmp_)
        old = tmp / "old"
        full = export(args.commit, old)
        print(f"reference: {args.commit} ({full[:12]}), exported to a temporary folder")
        print(f"current:   {ROOT} (working tree)")
        print(f"python:    {sys.executable}\n")
        rows, failed = [], False
        for name in args.instances:
            runs = {}
            for side, tree in (("old", old), ("new", ROOT)):
                code, secs, err = solve(tree, name, tmp / side / name)
                runs[side] = (code, secs)
                if code not in (0, 1):
                    print(f"{side} solve of {name} exited {code}:\n{err[-2000:]}", file=sys.stderr)
                    return 2
            count, differ = compare(tmp / "old" / name, tmp / "new" / name)
            failed |= bool(differ)
            rows.append((name, f"{runs['old'][0]}/{runs['new'][0]}", count, "yes" if not differ else "NO",
                         ", ".join(differ) or "-", f"{runs['old'][1]:.1f}/{runs['new'][1]:.1f}"))
        head = ("instance", "exit old/new", "files", "identical", "differing files", "seconds old/new")
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        for r in [head, tuple("-" * w for w in widths), *rows]:
            print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
        print("\nall plans byte-identical (manifest.json's engine_version aside)" if not failed
              else "\nPLANS DIFFER")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
