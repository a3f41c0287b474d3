"""The data-quality log: every row that loading drops, repairs or excludes.

Each rule that touches rows is recorded as one :class:`LogEntry` (table, rule, action, rows,
example ids); reports show the log so nothing is lost silently. Example ids shaped like a
phone number or an email address (member ids that are mobile numbers are common) are shown
masked, as any value the log quotes (:func:`crmkit.core.privacy.mask_contacts`).

Actions
-------
``dropped``   the row is removed because it cannot be used (a defect)
``repaired``  one or more values in the row were fixed or blanked; the row is kept
``excluded``  the row is valid but outside the analysis (dated after the period end)
``removed``   a whole column was removed (personal data)
``noted``     the row is kept as it is, read by a documented choice the user should know of:
              dates read day-first, a decimal comma, ids written ``1001.0`` or ``001000``, a
              customer also listed by another unit. Not a defect: not counted as dropped or
              repaired, and not among :meth:`QualityLog.issues`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from crmkit.core.privacy import mask_contacts

ACTIONS = ("dropped", "repaired", "excluded", "removed", "noted")


@dataclass(frozen=True)
class LogEntry:
    """One rule applied to one table: how many rows it touched, and a few of their ids."""

    table: str
    rule: str
    action: str
    rows: int
    example_ids: tuple[str, ...] = ()
    detail: str = ""


@dataclass
class QualityLog:
    """Everything loading did to the data, in the order it did it."""

    entries: list[LogEntry] = field(default_factory=list)

    def add(
        self,
        table: str,
        rule: str,
        action: str,
        rows: int,
        example_ids: list | tuple | pd.Series = (),
        detail: str = "",
    ) -> None:
        """Record a rule that touched ``rows`` rows; nothing is recorded for zero rows."""
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}; got {action!r}")
        if rows <= 0:
            return
        shown = (mask_contacts(str(i)) for i in _first_distinct(pd.Series(example_ids), 5))
        examples = tuple(dict.fromkeys(shown))
        self.entries.append(LogEntry(table, rule, action, int(rows), examples, detail))

    def rows(self, action: str) -> int:
        """Total rows with the given action."""
        return sum(e.rows for e in self.entries if e.action == action)

    @property
    def rows_dropped(self) -> int:
        return self.rows("dropped")

    @property
    def rows_repaired(self) -> int:
        return self.rows("repaired")

    def to_frame(self) -> pd.DataFrame:
        """One row per log entry: table, rule, action, rows, example_ids, detail."""
        columns = ["table", "rule", "action", "rows", "example_ids", "detail"]
        records = [{**asdict(e), "example_ids": ", ".join(e.example_ids)} for e in self.entries]
        return pd.DataFrame.from_records(records, columns=columns)

    def issues(self) -> list[dict]:
        """Defects only (dropped or repaired rows), as JSON-ready ``{table, rule, rows}``."""
        return [
            {"table": e.table, "rule": e.rule, "action": e.action, "rows": e.rows}
            for e in self.entries
            if e.action in ("dropped", "repaired")
        ]


def _first_distinct(values: pd.Series, n: int) -> list:
    """The first ``n`` distinct values in order of appearance; looks at the first thousand
    values first (the distinct values of a prefix are the first of the whole), so a rule that
    touched a million rows does not list a million ids to keep five."""
    found = pd.unique(values.head(1000))
    if len(found) < n and len(values) > 1000:
        found = pd.unique(values)
    return list(found[:n])
