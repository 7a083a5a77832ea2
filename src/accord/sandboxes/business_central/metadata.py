"""A minimal CSDL ``$metadata`` document (namespace Microsoft.NAV, container NAV) generated
from the entity specs — the real service has no static one to copy [I]."""

from __future__ import annotations

from accord.sandboxes.common.odata import EDM
from accord.sandboxes.common.store import EntitySpec


def csdl(specs: tuple[EntitySpec, ...]) -> str:
    """The $metadata XML."""
    types, sets = [], []
    for spec in specs:
        props = "".join(
            f'<Property Name="{f.name}" Type="{EDM[f.type]}"'
            + (f' MaxLength="{f.max_length}"' if f.max_length else "")
            + ("" if f.name != spec.key else ' Nullable="false"')
            + "/>"
            for f in spec.fields
        )
        types.append(
            f'<EntityType Name="{spec.type_name}"><Key><PropertyRef Name="{spec.key}"/></Key>'
            f"{props}</EntityType>"
        )
        sets.append(f'<EntitySet Name="{spec.name}" EntityType="Microsoft.NAV.{spec.type_name}"/>')
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
        '<edmx:DataServices><Schema Namespace="Microsoft.NAV" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">'
        + "".join(types)
        + '<EntityContainer Name="NAV">'
        + "".join(sets)
        + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )
