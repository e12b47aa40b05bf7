"""Input errors that name the file, row, column, value and rule broken.

Loading collects every :class:`InputIssue` it finds and raises one
:class:`InstanceError` holding them all, so a budget office fixes its
spreadsheet in one pass rather than one error at a time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

SHOWN_CHARS = 80  # longest value an issue repeats; a longer one is cut and its length named
MESSAGE_CHARS = 400  # longest message; the rule and location always fit


def clip(value: object, limit: int = SHOWN_CHARS) -> str:
    """``value`` as text, cut to ``limit`` characters (naming its full length) so no file is echoed whole."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters, shown up to {limit})"


@dataclass(frozen=True)
class InputIssue:
    """One problem in an instance's files.

    Parameters
    ----------
    file : str
        File name (``stations.csv``, ``instance.toml``) or ``book.xlsx[sheet]``.
    row : int or None
        Row as a spreadsheet shows it (the header is row 1); for TOML, the line.
    column : str or None
        Column name, or the dotted key of a TOML value.
    value : str or None
        The offending value as written.
    rule : str
        Short rule id (``out_of_range``, ``duplicate_id``, ...).
    message : str
        The rule broken, in words.
    severity : str
        ``error`` (the instance is rejected) or ``warning`` (reported only).
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        shown = "" if self.value is None else f": value {self.value!r}"
        return f"{', '.join(where)}{shown} -- {self.message} [{self.rule}]"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class InstanceError(Exception):
    """Raised by loading when an instance has one or more errors."""

    def __init__(self, issues: list[InputIssue]):
        self.issues = [i for i in issues if i.severity == "error"]
        self.warnings = [i for i in issues if i.severity != "error"]
        n = len(self.issues)
        super().__init__(f"{n} error{'s' if n != 1 else ''} in the instance:\n" + "\n".join(map(str, self.issues)))


class IssueLog:
    """Collects issues during loading; ``raise_if_errors`` ends the load."""

    def __init__(self) -> None:
        self.items: list[InputIssue] = []

    def add(
        self,
        file: str,
        row: int | None,
        column: str | None,
        value: object,
        rule: str,
        message: str,
        severity: str = "error",
    ) -> None:
        shown = None if value is None else clip(value)
        where = None if column is None else clip(column)
        text = message if len(message) <= MESSAGE_CHARS else clip(message, MESSAGE_CHARS)
        self.items.append(InputIssue(clip(file, 300), row, where, shown, rule, text, severity))

    @property
    def errors(self) -> list[InputIssue]:
        return [i for i in self.items if i.severity == "error"]

    @property
    def warnings(self) -> list[InputIssue]:
        return [i for i in self.items if i.severity != "error"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InstanceError(self.items)
