"""What a complaint is: the one rule every report counts complaints by.

A **complaint** is a service ticket with ``is_complaint`` true, where the unit's tickets carry
that column with values; otherwise an interaction whose ``kind`` is a complaint (one of
:data:`COMPLAINT_KINDS`, compared trimmed and in lower case). One source, never both, so a
complaint logged as a ticket and as a contact is not counted twice. A column that is absent
or holds no value is no source: an export with an empty ``is_complaint`` column knows nothing
of complaints (not that there were none), and a unit with neither source has no complaint
figures (absent, not zero).

The churn drivers (``complaints_90d``, :mod:`crmkit.metrics.churn_features`), the service part
of the health review (:mod:`crmkit.metrics.service`) and the health score all read
complaints through :func:`complaint_source` and the two masks below.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

COMPLAINT_KINDS = frozenset({"complaint", "complaints", "投诉"})
"""Interaction kinds that are complaints (compared trimmed and in lower case)."""

ComplaintSource = Literal["tickets", "interactions"]

COMPLAINT_COLUMNS = ["customer_id", "at", "category"]


def _present(frame: pd.DataFrame | None, columns: list[str]) -> bool:
    return frame is not None and len(frame) > 0 and all(c in frame.columns for c in columns)


def _kinds(interactions: pd.DataFrame) -> pd.Series:
    return interactions["kind"].astype("string").str.strip().str.lower()


def complaint_source(
    tickets: pd.DataFrame | None, interactions: pd.DataFrame | None
) -> ComplaintSource | None:
    """Where the unit's complaints are read from: ``"tickets"`` when the tickets (rows with
    ``customer_id`` and ``opened_at``) carry an ``is_complaint`` column with at least one
    value; else ``"interactions"`` when the interactions (``customer_id``, ``occurred_at``)
    carry a ``kind`` column with at least one non-blank value; else None (no complaint
    figures).

    Examples
    --------
    >>> tickets = pd.DataFrame({"customer_id": ["a"], "opened_at": pd.to_datetime(["2026-07-01"]),
    ...     "is_complaint": pd.array([pd.NA], dtype="boolean")})
    >>> contacts = pd.DataFrame({"customer_id": ["a"],
    ...     "occurred_at": pd.to_datetime(["2026-07-02"]), "kind": ["投诉"]})
    >>> complaint_source(tickets, contacts)
    'interactions'
    """
    if (
        _present(tickets, ["customer_id", "opened_at", "is_complaint"])
        and tickets["is_complaint"].notna().any()
    ):
        return "tickets"
    if (
        _present(interactions, ["customer_id", "occurred_at", "kind"])
        and _kinds(interactions).fillna("").ne("").any()
    ):
        return "interactions"
    return None


def complaint_tickets(tickets: pd.DataFrame) -> np.ndarray:
    """Per ticket, whether it is a complaint (``is_complaint`` true; missing is not)."""
    return tickets["is_complaint"].astype("boolean").fillna(False).to_numpy(dtype=bool)


def complaint_interactions(interactions: pd.DataFrame) -> np.ndarray:
    """Per interaction, whether its ``kind`` is one of :data:`COMPLAINT_KINDS`."""
    return _kinds(interactions).isin(COMPLAINT_KINDS).fillna(False).to_numpy(dtype=bool)


def complaint_rows(tickets: pd.DataFrame | None, interactions: pd.DataFrame | None) -> pd.DataFrame:
    """Every complaint of the unit under the one rule (module text), from its one source.

    Parameters
    ----------
    tickets
        ``customer_id, opened_at``, optionally ``is_complaint`` and ``category``; may be None.
    interactions
        ``customer_id, occurred_at``, optionally ``kind``; may be None.

    Returns
    -------
    pandas.DataFrame
        One row per complaint with a customer and a date: ``customer_id``, ``at`` (when the
        ticket was opened or the contact happened, datetime64) and ``category`` (the ticket's
        category; missing for interactions or tickets without one). Empty (those columns)
        when the unit has no source of complaints.

    Examples
    --------
    >>> tickets = pd.DataFrame({"customer_id": ["a", "b"],
    ...     "opened_at": pd.to_datetime(["2026-07-01", "2026-07-03"]),
    ...     "is_complaint": pd.array([True, False], dtype="boolean"),
    ...     "category": ["billing", "returns"]})
    >>> complaint_rows(tickets, None)[["customer_id", "category"]].values.tolist()
    [['a', 'billing']]
    """
    source = complaint_source(tickets, interactions)
    if source == "tickets":
        keep = complaint_tickets(tickets)
        at, found = tickets["opened_at"], tickets
    elif source == "interactions":
        keep = complaint_interactions(interactions)
        at, found = interactions["occurred_at"], interactions
    else:
        return pd.DataFrame(
            {
                "customer_id": pd.Series([], dtype="string"),
                "at": pd.Series([], dtype="datetime64[ns]"),
                "category": pd.Series([], dtype="string"),
            }
        )
    if source == "tickets" and "category" in found.columns:
        category = found["category"].astype("string")[keep]
    else:
        category = pd.Series(pd.NA, index=found.index[keep], dtype="string")
    rows = pd.DataFrame(
        {
            "customer_id": found["customer_id"][keep],
            "at": pd.to_datetime(at[keep]).astype("datetime64[ns]"),
            "category": category,
        }
    )
    rows = rows.loc[rows["customer_id"].notna() & rows["at"].notna()]
    return rows.reset_index(drop=True)
