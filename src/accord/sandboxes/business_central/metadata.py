"""A CSDL ``$metadata`` document (namespace Microsoft.NAV, container NAV) generated from the
entity specs — the real service has no static one to copy [I]. Lookups (``currencyId``) are
described by a navigation property to the related entity with a ``ReferentialConstraint``;
read-only fields carry ``Org.OData.Core.V1.Computed`` [I]; bound actions are ``Action``
elements whose binding parameter is the entity type, as Business Central lists them."""

from __future__ import annotations

from accord.sandboxes.common.odata import EDM
from accord.sandboxes.common.store import EntitySpec

_COMPUTED = '<Annotation Term="Org.OData.Core.V1.Computed" Bool="true"/>'


def csdl(specs: tuple[EntitySpec, ...]) -> str:
    """The $metadata XML."""
    types, sets, actions = [], [], []
    by_name = {s.name: s for s in specs}
    for spec in specs:
        props = "".join(
            f'<Property Name="{f.name}" Type="{EDM[f.type]}"'
            + (f' MaxLength="{f.max_length}"' if f.max_length else "")
            + ("" if f.name != spec.key else ' Nullable="false"')
            + (f">{_COMPUTED}</Property>" if f.read_only else "/>")
            for f in spec.fields
        )
        for lookup in spec.extra.get("lookups", ()):
            target = by_name.get(lookup.target)
            if target is not None:
                props += (
                    f'<NavigationProperty Name="{target.type_name}" '
                    f'Type="Microsoft.NAV.{target.type_name}">'
                    f'<ReferentialConstraint Property="{lookup.id_field}" '
                    f'ReferencedProperty="{target.key}"/></NavigationProperty>'
                )
        types.append(
            f'<EntityType Name="{spec.type_name}"><Key><PropertyRef Name="{spec.key}"/></Key>'
            f"{props}</EntityType>"
        )
        sets.append(f'<EntitySet Name="{spec.name}" EntityType="Microsoft.NAV.{spec.type_name}"/>')
        actions += [
            f'<Action Name="{action}" IsBound="true"><Parameter Name="bindingParameter" '
            f'Type="Microsoft.NAV.{spec.type_name}"/></Action>'
            for action in spec.extra.get("actions", ())
        ]
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
        '<edmx:DataServices><Schema Namespace="Microsoft.NAV" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">'
        + "".join(types)
        + "".join(actions)
        + '<EntityContainer Name="NAV">'
        + "".join(sets)
        + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )
