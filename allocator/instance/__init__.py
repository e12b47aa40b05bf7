"""The instance: its format, loading and checks, the clause registry, and the frozen :class:`Instance`.

=============  ==================================================================================
``schema``     every file and column, its type, unit, range; the size limits; the README reference
``policy``     the clauses of POLICY.md (:data:`CLAUSES`, :data:`BY_ID`), their figures and families
``values``     the frozen value types: :class:`Instance`, :class:`Table`, :class:`Clause`, ...
``read``       raw content of a folder or workbook, read within the limits and inside the folder
``settings``   checks of instance.toml / the policy sheet
``tables``     checks of the tables and the rules across them
``load``       :func:`check`, :func:`load`, :func:`with_settings`, :func:`instance_hash`
``write``      :func:`write_folder`, :func:`write_xlsx`, :func:`convert`
``errors``     :class:`InputIssue`, :class:`InstanceError`
=============  ==================================================================================
"""

from allocator.instance.errors import InputIssue, InstanceError, IssueLog
from allocator.instance.load import check, instance_hash, load, with_settings
from allocator.instance.policy import BY_ID, CLAUSES, ClauseSpec, FieldSpec
from allocator.instance.schema import LIMITS, TABLE_BY_NAME, TABLES, Column, TableSpec, format_reference
from allocator.instance.values import Clause, GroupType, Instance, Objective, StaffType, Table
from allocator.instance.write import convert, target_form, write_folder, write_xlsx

__all__ = [
    "BY_ID", "CLAUSES", "LIMITS", "TABLES", "TABLE_BY_NAME", "Clause", "ClauseSpec", "Column", "FieldSpec",
    "GroupType", "InputIssue", "Instance", "InstanceError", "IssueLog", "Objective", "StaffType", "Table",
    "TableSpec", "check", "convert", "format_reference", "instance_hash", "load", "target_form", "with_settings",
    "write_folder", "write_xlsx",
]
