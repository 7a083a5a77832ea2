"""The sandboxes' entity tables: one SQLAlchemy Core table per entity set, raw reads and
writes that keep row versions, companies and tombstones."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.store_schema import (
    COMPANY,
    SQL_TYPES,
    VERSION,
    EntitySpec,
    Field,
    Row,
    decimal_order,
)


class TableStore:
    """Entity rows in one SQLite file, read and written raw (versions, companies, tombstones);
    thread-safe through one re-entrant lock."""

    def __init__(self, specs: Iterable[EntitySpec], path: str, clock: Clock) -> None:
        self.clock = clock
        self.specs: dict[str, EntitySpec] = {s.name: s for s in specs}
        self.default_company: str | None = None
        self.lock = threading.RLock()
        for suffix in ("", "-wal", "-shm"):  # always start from an empty file
            Path(path + suffix).unlink(missing_ok=True)
        self.engine = sa.create_engine(
            f"sqlite:///{path}",
            poolclass=sa.pool.StaticPool,
            connect_args={"check_same_thread": False},
        )
        sa.event.listen(
            self.engine,
            "connect",
            lambda dbapi, _: dbapi.create_collation("DECIMAL", decimal_order),
        )
        self.meta = sa.MetaData()
        self._indexed = False
        self.storage: dict[str, str] = {n: s.view_of or n for n, s in self.specs.items()}
        """Entity set -> the entity set that owns its table (itself unless a view)."""
        self._fills = {n: self._fill_fields(s) for n, s in self.specs.items()}
        self.tables: dict[str, sa.Table] = {
            n: self._make_table(s) for n, s in self.specs.items() if s.view_of is None
        }
        self.tables.update({n: self.tables[s.view_of] for n, s in self.specs.items() if s.view_of})
        self.tombstones = sa.Table(
            "__tombstones",
            self.meta,
            sa.Column("entity", sa.String(64), nullable=False),
            sa.Column("key", sa.String(64), nullable=False),
            sa.Column(COMPANY, sa.String(36)),
            sa.Column(VERSION, sa.Integer, nullable=False),
            sa.Column("at", sa.String(32)),
            sa.Index("ix_tomb_entity_version", "entity", VERSION),
        )
        with self.engine.begin() as conn:
            for pragma in ("journal_mode=WAL", "synchronous=OFF", "temp_store=MEMORY"):
                conn.exec_driver_sql(f"PRAGMA {pragma}")
        # the file was just removed: no look-ups of what exists (they cost more than the DDL)
        self.meta.create_all(self.engine, checkfirst=False)
        self.conn = self.engine.connect()
        self._sql_insert = {
            n: (
                f'INSERT INTO "{n}" ({", ".join(chr(34) + c.name + chr(34) for c in t.c)}) '
                f"VALUES ({', '.join('?' for _ in t.c)})",
                [c.name for c in t.c],
            )
            for n, t in self.tables.items()
        }
        self._version = 0
        self._depth = 0
        self._statements: dict[tuple[str, tuple[str, ...], int | None], sa.Select[Any]] = {}

    def _fill_fields(self, spec: EntitySpec) -> tuple[tuple[Field, ...], dict[str, Any]]:
        """(every column of the entity's table, the defaults a new row gets): its own fields
        first, then those only the other entity sets over the same table have."""
        owner = self.storage[spec.name]
        sharing = [s for s in self.specs.values() if self.storage[s.name] == owner]
        fields = {f.name: f for s in sharing for f in s.fields if s is not spec}
        fields.update({f.name: f for f in spec.fields})
        defaults: dict[str, Any] = {}
        for other in [*(s for s in sharing if s is not spec), spec]:
            defaults.update(other.extra.get("defaults", {}))
        own = [f.name for f in spec.fields]
        order = own + [n for n in fields if n not in own]
        return tuple(fields[n] for n in order), defaults

    def _make_table(self, spec: EntitySpec) -> sa.Table:
        columns = self._fills[spec.name][0]
        cols: list[Any] = [sa.Column(f.name, SQL_TYPES[f.type]()) for f in columns]
        cols.append(sa.Column(VERSION, sa.Integer, nullable=False))
        if spec.scoped:
            cols.append(sa.Column(COMPANY, sa.String(36)))
        return sa.Table(spec.name, self.meta, *cols)

    def _make_indexes(self, spec: EntitySpec, table: sa.Table) -> list[sa.Index]:
        name, c = spec.name, table.c
        scope = [COMPANY] if spec.scoped else []
        out = [
            sa.Index(f"ux_{name}_key", c[spec.key], unique=True),
            sa.Index(f"ix_{name}_v", c[VERSION]),
        ]
        scope_cols = [c[s] for s in scope]
        if spec.scoped:
            out.append(sa.Index(f"ix_{name}_co_key", c[COMPANY], c[spec.key]))
        if spec.modified:
            out.append(sa.Index(f"ix_{name}_mod", *scope_cols, c[spec.modified], c[spec.key]))
        out.extend(
            sa.Index(f"ix_{name}_{f.name}", *scope_cols, c[f.name]) for f in spec.fields if f.index
        )
        return out

    def create_indexes(self) -> None:
        """Build the indexes (call after the bulk seed; every query path needs them)."""
        with self.lock:
            if self._indexed:
                return
            with self.transaction():
                for name, spec in self.specs.items():
                    if spec.view_of is not None:
                        continue  # the owner's indexes serve the same table
                    for index in self._make_indexes(spec, self.tables[name]):
                        index.create(self.conn, checkfirst=False)  # built once (_indexed)
                self.conn.exec_driver_sql("ANALYZE")
            self._indexed = True

    # ------------------------------------------------------------------ plumbing
    def table(self, entity: str) -> sa.Table:
        """The SQLAlchemy table of an entity set (KeyError if unknown)."""
        return self.tables[entity]

    def next_version(self) -> int:
        """Reserve the next store-wide row version."""
        with self.lock:
            self._version += 1
            return self._version

    @property
    def version(self) -> int:
        """Newest row version handed out so far."""
        return self._version

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or roll back together (re-entrant)."""
        with self.lock:
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.rollback()
                raise
            self._depth -= 1
            if self._depth == 0:
                self.conn.commit()

    def rows(self, stmt: sa.Executable, params: Any = None) -> list[Row]:
        """Run a SELECT and return plain dicts."""
        with self.transaction():
            result = self.conn.execute(stmt, params)
            keys = list(result.keys())
            return [dict(zip(keys, r, strict=True)) for r in result]

    def scalar(self, stmt: sa.Executable) -> Any:
        """Run a SELECT returning one value."""
        with self.transaction():
            return self.conn.execute(stmt).scalar()

    def _scope(self, spec: EntitySpec, company: str | None) -> str | None:
        return (company or self.default_company) if spec.scoped else None

    def now_text(self, spec: EntitySpec) -> str:
        """The clock's time in the entity's timestamp format."""
        return spec.time_format(self.clock.now())

    def _fill(self, spec: EntitySpec, values: Row, company: str | None, stamp: str) -> Row:
        row: Row = {}
        columns, defaults = self._fills[spec.name]
        for f in columns:
            if f.name in values:
                row[f.name] = values[f.name]
            elif f.name in defaults:
                row[f.name] = defaults[f.name]
            else:
                d = f.default
                row[f.name] = d() if d is not None and callable(d) else d
        if not row.get(spec.key):
            row[spec.key] = str(uuid.uuid4())
        if spec.modified:
            row[spec.modified] = stamp
        if spec.created and not values.get(spec.created):
            row[spec.created] = stamp
        if spec.scoped:
            row[COMPANY] = self._scope(spec, company)
        return row

    # ------------------------------------------------------------------ raw rows
    def insert_raw(self, entity: str, values: Row, company: str | None = None) -> Row:
        """Insert one row (key assigned when absent); returns the stored row with ``__v``."""
        spec = self.specs[entity]
        with self.transaction():
            row = self._fill(spec, values, company, self.now_text(spec))
            row[VERSION] = self.next_version()
            self.conn.execute(self.tables[entity].insert(), row)
            return row

    def insert_many(self, entity: str, rows: Sequence[Row], company: str | None = None) -> None:
        """Bulk insert (executemany), stamping each row like a single insert."""
        if not rows:
            return
        spec = self.specs[entity]
        sql, names = self._sql_insert[entity]
        fixed: dict[str, Any] = {}
        with self.transaction():
            stamp = self.now_text(spec)
            if spec.modified:
                fixed[spec.modified] = stamp
            if spec.scoped:
                fixed[COMPANY] = self._scope(spec, company)
            columns, defaults = self._fills[entity]
            plain = {f.name: f.default for f in columns if not callable(f.default)}
            plain.update(defaults)
            dynamic = any(callable(f.default) for f in columns)
            tuples = []
            for values in rows:
                if dynamic or not values.get(spec.key):
                    values = self._fill(spec, values, company, stamp)
                if spec.created and not values.get(spec.created):
                    values = {**values, spec.created: stamp}
                merged = {**plain, **values, **fixed, VERSION: self.next_version()}
                tuples.append(tuple([merged.get(n) for n in names]))
            self.conn.exec_driver_sql(sql, tuples)

    def get_raw(self, entity: str, key: str, company: str | None = None) -> Row | None:
        """One row by primary key (within the company for scoped entities)."""
        found = self._where(entity, {self.specs[entity].key: key}, company)
        return found[0] if found else None

    def find_raw(self, entity: str, match: Row, company: str | None = None) -> list[Row]:
        """Rows whose columns equal ``match`` (alternate-key lookup), at most two."""
        return self._where(entity, match, company, limit=2)

    def _where(
        self, entity: str, match: Row, company: str | None, limit: int | None = None
    ) -> list[Row]:
        """Rows whose columns equal ``match`` (a NULL compares as ``IS NULL``)."""
        spec = self.specs[entity]
        scope = self._scope(spec, company)
        if any(v is None for v in match.values()) or (spec.scoped and scope is None):
            t = self.tables[entity]
            stmt = sa.select(t).where(*(t.c[k] == v for k, v in match.items()))
            if spec.scoped:
                stmt = stmt.where(t.c[COMPANY] == scope)
            return self.rows(stmt if limit is None else stmt.limit(limit))
        params = {f"k{i}": v for i, v in enumerate(match.values())}
        if spec.scoped:
            params["co"] = scope
        return self.rows(self._by_columns(entity, tuple(match), limit), params)

    def _by_columns(
        self, entity: str, columns: tuple[str, ...], limit: int | None = None
    ) -> sa.Select[Any]:
        """``SELECT * WHERE col_i = :k<i> [AND company = :co]``, built once per shape (the
        hot path of every single-row read and write: building a statement per call cost
        more than running it)."""
        shape = (entity, columns, limit)
        stmt = self._statements.get(shape)
        if stmt is None:
            t = self.tables[entity]
            stmt = sa.select(t).where(
                *(t.c[c] == sa.bindparam(f"k{i}") for i, c in enumerate(columns))
            )
            if self.specs[entity].scoped:
                stmt = stmt.where(t.c[COMPANY] == sa.bindparam("co"))
            if limit is not None:
                stmt = stmt.limit(limit)
            self._statements[shape] = stmt
        return stmt

    def update_raw(
        self, entity: str, key: str, values: Row, company: str | None = None
    ) -> Row | None:
        """Merge ``values`` into a row, bump version and modified time; None if absent."""
        spec = self.specs[entity]
        t = self.tables[entity]
        with self.transaction():
            current = self.get_raw(entity, key, company)
            if current is None:
                return None
            changes = {k: v for k, v in values.items() if k in t.c and k != spec.key}
            changes[VERSION] = self.next_version()
            if spec.modified:
                changes[spec.modified] = self.now_text(spec)
            self.conn.execute(t.update().where(t.c[spec.key] == key), changes)
            current.update(changes)
            return current

    def delete_raw(self, entity: str, key: str, company: str | None = None) -> Row | None:
        """Delete a row and leave a tombstone; returns the deleted row or None."""
        spec = self.specs[entity]
        t = self.tables[entity]
        with self.transaction():
            current = self.get_raw(entity, key, company)
            if current is None:
                return None
            self.conn.execute(t.delete().where(t.c[spec.key] == key))
            self.conn.execute(
                self.tombstones.insert(),
                {
                    "entity": self.storage[entity],
                    "key": key,
                    COMPANY: current.get(COMPANY),
                    VERSION: self.next_version(),
                    "at": self.now_text(spec),
                },
            )
            return current

    def deleted_since(
        self, entity: str, after: int, upto: int, limit: int, company: str | None = None
    ) -> list[Row]:
        """Tombstones with after < version <= upto, oldest first."""
        tb = self.tombstones
        stmt = (
            sa.select(tb.c.key, tb.c[VERSION], tb.c.at)
            .where(
                tb.c.entity == self.storage[entity], tb.c[VERSION] > after, tb.c[VERSION] <= upto
            )
            .order_by(tb.c[VERSION])
            .limit(limit)
        )
        if self.specs[entity].scoped:
            stmt = stmt.where(tb.c[COMPANY] == self._scope(self.specs[entity], company))
        return self.rows(stmt)
