"""The ``--json`` shapes (documented in docs/guide.md, "Scripting"): plain dicts of results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from accord.services.operations import ConflictRow
from accord.services.status import CouplingRow, ErrorRow, MappingStatus, PassSummary
from accord.state.jobs import COUNTERS
from accord.sync.full import MappingRun
from accord.sync.passes import PassResult


def counts(values: Any) -> dict[str, int]:
    """Every counter, zeros included, so scripts can index any of them (and any other count
    the result carries)."""
    return {**dict.fromkeys(COUNTERS, 0), **{str(k): int(v) for k, v in values.items()}}


def pass_json(r: PassResult) -> dict[str, Any]:
    return {
        "mapping": r.mapping,
        "direction": r.direction,
        "job_id": r.job_id,
        "status": r.status,
        "message": r.message,
        "counts": counts(r.counts),
    }


def run_json(run: MappingRun) -> dict[str, Any]:
    return {
        "mapping": run.mapping,
        "recommendation": run.recommendation,
        "status": run.status,
        "message": run.message,
        "coupling": None if run.coupling is None else counts(run.coupling.counts),
        "passes": [pass_json(p) for p in run.passes],
    }


def preview_json(results: Sequence[PassResult]) -> dict[str, Any]:
    return {
        "passes": [pass_json(r) for r in results],
        "changes": [
            {
                "mapping": row.mapping,
                "direction": row.direction,
                "source_id": row.source_id,
                "destination_id": row.destination_id,
                "action": row.action,
                "error": row.error,
                "fields": [{"field": c.field, "old": c.old, "new": c.new} for c in row.changes],
                "conflicts": row.conflicts,
            }
            for r in results
            for row in r.preview
        ],
    }


def _summary(p: PassSummary) -> dict[str, Any]:
    return {**asdict(p), "counts": counts(p.counts)}


def status_json(rows: Sequence[MappingStatus]) -> dict[str, Any]:
    return {
        "mappings": [
            {
                "mapping": row.name,
                "direction": row.direction,
                "enabled": row.disabled is None,
                "disabled_reason": row.disabled,
                "couplings": row.couplings,
                "failed": row.failed,
                "skipped": row.skipped,
                "open_conflicts": row.open_conflicts,
                "watermarks": row.watermarks,
                "last_passes": [_summary(p) for p in row.last_passes],
            }
            for row in rows
        ]
    }


def errors_json(rows: Sequence[ErrorRow]) -> dict[str, Any]:
    return {"errors": [asdict(row) for row in rows]}


def conflicts_json(rows: Sequence[ConflictRow]) -> dict[str, Any]:
    return {"conflicts": [asdict(row) for row in rows]}


def couplings_json(rows: Sequence[CouplingRow], total: int) -> dict[str, Any]:
    return {"total": total, "couplings": [asdict(row) for row in rows]}
