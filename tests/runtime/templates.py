"""bc-sales with ``create_new_if_no_match`` on every mapping: a full sync over data on both
sides then creates what it cannot match, so every seeded record ends up coupled."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from accord.config.loader import BUILTIN_PACKAGE


def all_creating(folder: Path) -> str:
    data = yaml.safe_load((resources.files(BUILTIN_PACKAGE) / "bc-sales.yaml").read_text())
    for item in data["mappings"]:
        item["create_new_if_no_match"] = True
    path = folder / "bc-sales-creating.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)
