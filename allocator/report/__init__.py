"""Reports of instances and plans: the ``show`` summary, the Excel workbook, the HTML report, terminal tables.

``read_plan`` is :func:`allocator.station.read_plan`, re-exported for report callers.
Names are imported on first use, so that ``allocator clauses`` does not load the model and solvers.
"""

from typing import Any

__all__ = ["ReportData", "format_instance_summary", "instance_summary", "read_plan", "report_data",
           "write_html", "write_workbook"]

_WHERE = {"read_plan": "allocator.station", "ReportData": "allocator.report.frames",
          "report_data": "allocator.report.frames", "format_instance_summary": "allocator.report.summary",
          "instance_summary": "allocator.report.summary", "write_workbook": "allocator.report.workbook",
          "write_html": "allocator.report.html"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'allocator.report' has no attribute {name!r}")
