"""A chart as the pages' script draws it (Chart.js): kind, labels and series, as plain data.

Every page's JSON endpoint answers ``{"charts": [Chart.json(), ...]}``; the script draws each
into the ``<canvas data-chart=ID>`` of the page. Builders here never see HTML nor Chart.js
options beyond the kind and whether bars stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["bar", "line", "hbar"]


@dataclass(frozen=True)
class Series:
    label: str
    data: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    kind: Kind
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    stacked: bool = False
    unit: str = ""
    note: str = ""
    empty: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "empty", not any(any(s.data) for s in self.series))

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "labels": list(self.labels),
            "series": [{"label": s.label, "data": list(s.data)} for s in self.series],
            "stacked": self.stacked,
            "unit": self.unit,
            "note": self.note,
            "empty": self.empty,
        }


def single(
    id: str, title: str, kind: Kind, counts: dict[str, float], label: str, unit: str = ""
) -> Chart:
    """One series from ``label -> value`` (in the order given)."""
    return Chart(
        id, title, kind, tuple(counts), (Series(label, tuple(counts.values())),), unit=unit
    )


def grouped(
    id: str,
    title: str,
    kind: Kind,
    table: Mapping[str, Mapping[str, float]],
    order: tuple[str, ...] = (),
) -> Chart:
    """Stacked series from ``row -> column -> value``: a bar per row, a series per column
    (the columns in ``order`` first, then the rest alphabetically)."""
    columns = [c for c in order if any(c in row for row in table.values())]
    columns += sorted({c for row in table.values() for c in row} - set(columns))
    series = tuple(Series(c, tuple(float(table[r].get(c, 0)) for r in table)) for c in columns)
    return Chart(id, title, kind, tuple(table), series, stacked=True)
