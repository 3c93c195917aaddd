"""TIMESTAMPTZ values in filters: ISO-8601 instants and durations, as UTC microseconds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

__all__ = ["IntervalValue", "add_interval", "parse_instant", "parse_interval"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?:(?P<Y>\d+)Y)?(?:(?P<M>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True)
class IntervalValue:
    """A duration: calendar months (years count 12) plus exact microseconds."""

    months: int
    micros: int

    def negated(self) -> IntervalValue:
        return IntervalValue(-self.months, -self.micros)


def parse_instant(text: str) -> int:
    """An ISO-8601 instant as UTC microseconds; no offset means UTC. Raises ValueError."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_interval(text: str) -> IntervalValue:
    """An ISO-8601 duration such as ``P1D``, ``PT3H``, ``P1Y2M``. Raises ValueError."""
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT", "-P", "+P") or text.strip().endswith("T"):
        raise ValueError(f"invalid ISO-8601 duration {text!r} (examples: P1D, PT3H, P2DT6H)")
    g = {k: v for k, v in match.groupdict().items() if v is not None and k != "sign"}
    months = int(g.get("Y", 0)) * 12 + int(g.get("M", 0))
    seconds = float(g.get("s", 0))
    micros = (
        (int(g.get("W", 0)) * 7 + int(g.get("D", 0))) * 86_400_000_000
        + int(g.get("h", 0)) * 3_600_000_000
        + int(g.get("m", 0)) * 60_000_000
        + round(seconds * 1_000_000)
    )
    if match.group("sign") == "-":
        return IntervalValue(-months, -micros)
    return IntervalValue(months, micros)


def add_interval(micros: np.ndarray, interval: IntervalValue) -> np.ndarray:
    """Shift UTC microsecond instants by a duration; months move the calendar month
    and keep the time within the month (a day past the month's end rolls over)."""
    out = micros.astype(np.int64, copy=True)
    if interval.months:
        stamps = out.astype("datetime64[us]")
        month = stamps.astype("datetime64[M]")
        within = stamps - month.astype("datetime64[us]")
        shifted = (month + np.timedelta64(interval.months, "M")).astype("datetime64[us]") + within
        out = shifted.astype(np.int64)
    return out + np.int64(interval.micros)
