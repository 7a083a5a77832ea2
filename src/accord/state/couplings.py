"""Queries on couplings: bulk look-ups by id, failed records, lookup tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import InstrumentedAttribute

from accord.mapping.fields import is_blank
from accord.state.models import Coupling

Side = Literal["local", "remote"]
CHUNK = 500


def id_column(side: Side) -> InstrumentedAttribute[str | None]:
    return Coupling.local_id if side == "local" else Coupling.remote_id


def key_column(side: Side) -> InstrumentedAttribute[str | None]:
    return Coupling.local_key if side == "local" else Coupling.remote_key


def key_text(value: object) -> str | None:
    """A natural key as stored on a coupling: blank (None, empty, zero GUID) is None."""
    return None if is_blank(value) else str(value)[:200]


def chunks(values: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def by_ids(
    session: Session, mapping_id: int, side: Side, ids: Iterable[str]
) -> dict[str, Coupling]:
    """Couplings of ``mapping_id`` whose ``side`` id is in ``ids``, keyed by that id."""
    column = id_column(side)
    wanted = list(dict.fromkeys(ids))
    found: dict[str, Coupling] = {}
    for part in chunks(wanted):
        for row in session.scalars(
            select(Coupling).where(Coupling.mapping_id == mapping_id, column.in_(part))
        ):
            found[row.local_id if side == "local" else row.remote_id] = row  # type: ignore[index]
    return found


def retry_first(session: Session, mapping_id: int, source: Side, limit: int = 5000) -> list[str]:
    """Source ids of records that failed last time (not skipped), and unfinished creates."""
    result_column = (
        Coupling.last_result_to_remote if source == "local" else Coupling.last_result_from_remote
    )
    column = id_column(source)
    rows = session.scalars(
        select(column)
        .where(
            Coupling.mapping_id == mapping_id,
            column.is_not(None),
            Coupling.skipped.is_(False),
            or_(result_column == "failure", Coupling.state == "creating"),
        )
        .limit(limit)
    )
    return [r for r in rows if r is not None]


def translate(
    session: Session, mapping_id: int, from_side: Side, by: str, values: Iterable[str]
) -> dict[str, str]:
    """Map references on ``from_side`` (ids, or natural keys when ``by='key'`` on the local
    side) to the other side's reference of the same coupling (its id, or its key when the
    other side is local and ``by='key'``)."""
    wanted = [v for v in dict.fromkeys(values) if v]
    if not wanted:
        return {}
    to_side: Side = "remote" if from_side == "local" else "local"
    source_col = (
        key_column(from_side) if by == "key" and from_side == "local" else id_column(from_side)
    )
    target_col = key_column(to_side) if by == "key" and to_side == "local" else id_column(to_side)
    table: dict[str, str] = {}
    for part in chunks(wanted):
        rows = session.execute(
            select(source_col, target_col).where(
                Coupling.mapping_id == mapping_id,
                source_col.in_(part),
                Coupling.state == "coupled",
                target_col.is_not(None),
            )
        )
        for source_value, target_value in rows:
            table[str(source_value)] = str(target_value)
    return table
