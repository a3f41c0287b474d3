"""What changed and what to do: the flags a report raises and how they are ranked.

A topic raises a :class:`Flag` for a change against the previous period that is
significant, or for a figure past its alert level (a channel that does not pay back its
acquisition cost, an NPS below zero). Each flag carries its sentence and its suggested action
in every report language, and the heading of the report section that shows the detail.
A topic may raise only the flags its registry entry declares (``Topic.flags``).

**Ranking** (:func:`rank_flags`; the same rule on a report and on the portfolio, where a
unit's flags from all topics are ranked together):

1. bad news before good news;
2. a significant change (p < 0.05) before a figure past its alert level;
3. then the stronger case first: for a change, its size over its standard error
   (``z = |delta| / se``, with ``se`` from the 95% interval: size and certainty in one
   number, comparable across figures); for an alert level, how far past it the figure is,
   as a fraction of the level;
4. at most :data:`MOST` flags are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from crmkit.present.language import LANGUAGES, all_languages, language, words

MOST = 5
SIGNIFICANT = 0.05
CHANGE, ALERT = "change", "alert"


@dataclass(frozen=True)
class Flag:
    """One thing a manager should know, in every report language."""

    topic: str
    key: str
    kind: str  # CHANGE or ALERT
    bad: bool
    strength: float  # z for a change; excess over the alert level, as a fraction of it
    message: dict[str, str]
    action: dict[str, str]
    section: dict[str, str]  # the report section's heading, per language
    p_value: float | None = None
    values: dict[str, Any] = field(default_factory=dict)  # the raw figures, for checks

    def priority(self) -> tuple:
        """Sort key of the ranking rule (smaller first)."""
        return (not self.bad, self.kind != CHANGE, -self.strength)

    def to_record(self) -> dict[str, Any]:
        """The flag as plain JSON for ``<notebook>.json``."""
        return asdict(self)


def _per_language(key: str, values: Mapping[str, Any]) -> dict[str, str]:
    return all_languages(key, **values)


def change_flag(
    topic: str,
    key: str,
    *,
    delta: float,
    low: float,
    high: float,
    p_value: float,
    good_when: str,
    message: str,
    action: str,
    section: str,
    values: Mapping[str, Callable[[], str] | str] = (),
    raw: Mapping[str, Any] = (),
) -> Flag | None:
    """A flag for a change against the previous period, or ``None`` when it is not
    significant (p ≥ 0.05) or cannot be measured.

    ``delta`` is this period minus the previous one, ``low``–``high`` its 95% interval;
    ``good_when`` is ``"up"`` or ``"down"``. ``message``, ``action`` and ``section`` are
    catalogue keys; ``values`` fill the message's placeholders (callables are called once
    per language, so numbers are formatted by each locale).
    """
    import math

    if good_when not in ("up", "down"):
        raise ValueError(f"good_when must be 'up' or 'down', got {good_when!r}")
    numbers = (delta, low, high, p_value)
    if any(v is None or not math.isfinite(v) for v in numbers) or p_value >= SIGNIFICANT:
        return None
    se = (high - low) / (2 * 1.959964)
    strength = abs(delta) / se if se > 0 else float("inf")
    return Flag(
        topic=topic,
        key=key,
        kind=CHANGE,
        bad=(delta < 0) == (good_when == "up"),
        strength=min(strength, 1e6),
        message=_per_language(message, dict(values)),
        action=_per_language(action, {}),
        section=_per_language(section, {}),
        p_value=float(p_value),
        values={"delta": delta, "low": low, "high": high, **dict(raw)},
    )


def alert_flag(
    topic: str,
    key: str,
    *,
    excess: float,
    message: str,
    action: str,
    section: str,
    bad: bool = True,
    values: Mapping[str, Callable[[], str] | str] = (),
    raw: Mapping[str, Any] = (),
) -> Flag:
    """A flag for a figure past its alert level; ``excess`` is how far past, as a fraction
    of the level (0.5: half as far again)."""
    return Flag(
        topic=topic,
        key=key,
        kind=ALERT,
        bad=bad,
        strength=float(excess),
        message=_per_language(message, dict(values)),
        action=_per_language(action, {}),
        section=_per_language(section, {}),
        values=dict(raw),
    )


def rank_flags(flags: Iterable[Flag | Mapping[str, Any] | None], most: int = MOST) -> list:
    """The flags in the order of the ranking rule (module docstring), at most ``most``;
    ``None`` entries (changes that were not significant) are left out. Accepts flags or
    their JSON records."""
    found = [f for f in flags if f is not None]

    def priority(flag) -> tuple:
        if isinstance(flag, Flag):
            return flag.priority()
        return (not flag["bad"], flag["kind"] != CHANGE, -float(flag["strength"]))

    return sorted(found, key=priority)[:most]


def anchor(heading: str) -> str:
    """The id nbconvert gives a Markdown heading (``nbconvert.filters.strings``): its text
    with spaces as hyphens, URL-encoded (``净推荐值`` → ``%E5%87%80...``)."""
    from urllib.parse import quote

    return quote(heading.strip().replace(" ", "-"), safe="?/:@!$&'()*+,;=")


def flags_markdown(flags: Iterable[Flag], code: str | None = None) -> str:
    """The "what changed and what to do" block at the top of a report, in ``code`` (the
    active language when not given): one numbered line per ranked flag, its action, and a
    link to the section with the detail."""
    from crmkit.present.language import current

    code = code or current()
    if code not in LANGUAGES:
        raise ValueError(f"Unknown language {code!r}")
    with language(code):
        ranked = rank_flags(flags)
        lines = [f"## {words('common.flags_title')}", ""]
        if not ranked:
            lines.append(words("common.no_flags"))
        for number, flag in enumerate(ranked, 1):
            marker = ("▼" if flag.bad else "▲") if flag.kind == CHANGE else "●"
            link = f"[{words('common.flag_link')}](#{anchor(flag.section[code])})"
            action = words("common.flag_action", action=flag.action[code])
            see = words("common.flag_see", link=link)
            lines.append(f"{number}. {marker} **{flag.message[code]}** {action} {see}")
        return "\n".join(lines)
