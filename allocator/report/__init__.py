"""Reports of instances and plans: the ``show`` summary, the Excel workbook, the HTML report, terminal tables.

``read_plan`` here is a minimal stand-in (:mod:`allocator.report._plan_reader`) for
``allocator.station.read_plan``; the lead points this import at ``allocator.station`` at merge time.
"""

from allocator.report._plan_reader import read_plan
from allocator.report.frames import ReportData, report_data
from allocator.report.summary import format_instance_summary, instance_summary

__all__ = ["ReportData", "format_instance_summary", "instance_summary", "read_plan", "report_data",
           "write_html", "write_workbook"]


def write_workbook(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`allocator.report.workbook.write_workbook` (imported when first used: openpyxl is slow to load)."""
    from allocator.report.workbook import write_workbook as w

    return w(*args, **kwargs)


def write_html(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`allocator.report.html.write_html` (imported when first used: matplotlib is slow to load)."""
    from allocator.report.html import write_html as w

    return w(*args, **kwargs)
