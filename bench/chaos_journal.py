"""``bench chaos --keep DIR``: what a failed run leaves behind for analysis.

The worker logs and the state database are kept, and every row the sandboxes insert or
delete (through their API or by the ledger) is written to ``DIR/journal.tsv`` with the time,
the thread (the ledger's or a request's) and the customer's name, so a record the comparison
calls lost can be traced from its first create to its end.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

NAMES = {"customers": "displayName", "accounts": "name"}


class Journal:
    """Wraps the sandbox stores' raw insert and delete, appending one line per call."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "journal.tsv"
        self._lock = threading.Lock()
        self._file = self.path.open("a", encoding="utf-8")

    def watch(self, system: str, store: Any) -> None:
        """Journal ``store``'s inserts and deletes of customers and accounts."""
        insert_raw, delete_raw = store.insert_raw, store.delete_raw

        def insert(entity: str, values: dict[str, Any], company: str | None = None) -> Any:
            row = insert_raw(entity, values, company)
            self._line(system, "insert", entity, row)
            return row

        def delete(entity: str, key: str, company: str | None = None) -> Any:
            row = delete_raw(entity, key, company)
            if row is not None:
                self._line(system, "delete", entity, row)
            return row

        store.insert_raw, store.delete_raw = insert, delete

    def _line(self, system: str, what: str, entity: str, row: dict[str, Any]) -> None:
        if entity not in NAMES:
            return
        key = row.get("id") or row.get("accountid")
        fields = (f"{time.time():.3f}", threading.current_thread().name, system, what,
                  str(key), str(row.get(NAMES[entity])))  # fmt: skip
        with self._lock:
            self._file.write("\t".join(fields) + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()
