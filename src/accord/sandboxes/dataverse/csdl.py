"""The organization's ``$metadata`` (CSDL), generated from the tables the sandbox serves.

As the real service publishes it: schema ``Microsoft.Dynamics.CRM`` (alias ``mscrm``), entity
types named by logical name on the abstract ``crmbaseentity``, lookup properties ``_x_value``
beside single-valued navigation properties whose ``ReferentialConstraint`` names them, and
entity sets in the ``System`` container. With ``?annotations=true`` read-only columns carry
``Org.OData.Core.V1.Computed`` and ``Permissions``/``Read``. Like the real document it gives
no string lengths. Custom columns (``DvOptions.custom_columns``) appear like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import quoteattr

from accord.sandboxes.common.odata import EDM
from accord.sandboxes.common.store import EntitySpec

_READ_ONLY = (
    '<Annotation Term="Org.OData.Core.V1.Computed" Bool="true"/>'
    '<Annotation Term="Org.OData.Core.V1.Permissions">'
    "<EnumMember>Org.OData.Core.V1.PermissionType/Read</EnumMember></Annotation>"
)


def _property(name: str, edm: str, read_only: bool, annotations: bool) -> str:
    unicode = ' Unicode="false"' if edm == "Edm.String" else ""
    head = f"<Property Name={quoteattr(name)} Type={quoteattr(edm)}{unicode}"
    if annotations and read_only:
        return f"{head}>{_READ_ONLY}</Property>"
    return f"{head}/>"


def _entity_type(spec: EntitySpec, by_name: dict[str, EntitySpec], annotations: bool) -> str:
    parts = [
        f'<EntityType Name="{spec.type_name}" BaseType="mscrm.crmbaseentity">'
        f'<Key><PropertyRef Name="{spec.key}"/></Key>'
    ]
    for f in spec.fields:
        parts.append(_property(f.name, EDM[f.type], f.read_only or f.name == spec.key, annotations))
    for nav in spec.extra.get("navs", {}).values():
        for target_name in nav.targets:
            target = by_name.get(target_name)
            if target is None:
                continue
            parts.append(
                f'<NavigationProperty Name="{nav.name}" Type="mscrm.{target.type_name}" '
                f'Nullable="false" Partner="{spec.type_name}_{nav.name}">'
                f'<ReferentialConstraint Property="{nav.column}" '
                f'ReferencedProperty="{target.key}"/></NavigationProperty>'
            )
    parts.append("</EntityType>")
    return "".join(parts)


def csdl(specs: Iterable[EntitySpec], *, annotations: bool = False) -> str:
    """The ``$metadata`` XML of ``specs`` (annotations only when asked for, as the service)."""
    by_name = {s.name: s for s in specs}
    types = "".join(_entity_type(s, by_name, annotations) for s in by_name.values())
    sets = "".join(
        f'<EntitySet Name="{s.name}" EntityType="mscrm.{s.type_name}"/>' for s in by_name.values()
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
        "<edmx:DataServices>"
        '<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">'
        '<EntityType Name="crmbaseentity" Abstract="true"/>'
        f'{types}<EntityContainer Name="System">{sets}</EntityContainer>'
        "</Schema></edmx:DataServices></edmx:Edmx>"
    )
