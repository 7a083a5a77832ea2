"""Read an OData v4 CSDL ``$metadata`` document into entity sets, properties and lookups.

Both Microsoft services publish one per environment (Business Central per API route,
Dataverse per organization). What is kept: entity sets and their entity types (with base
types), each property's EDM type, ``MaxLength`` and whether it is computed (read-only:
``Org.OData.Core.V1.Computed`` or a ``Permissions`` of ``Read``, inline or in an
``Annotations`` block), enum types, and single-valued navigation properties with the
``ReferentialConstraint`` that names the lookup property they set.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from accord.connectors.base import FieldType
from accord.errors import ConfigError

EDM_TYPES: dict[str, FieldType] = {
    "Edm.String": FieldType.STRING,
    "Edm.Guid": FieldType.GUID,
    "Edm.Int16": FieldType.INTEGER,
    "Edm.Int32": FieldType.INTEGER,
    "Edm.Int64": FieldType.INTEGER,
    "Edm.Byte": FieldType.INTEGER,
    "Edm.Decimal": FieldType.DECIMAL,
    "Edm.Double": FieldType.DECIMAL,
    "Edm.Single": FieldType.DECIMAL,
    "Edm.Boolean": FieldType.BOOLEAN,
    "Edm.Date": FieldType.DATE,
    "Edm.DateTimeOffset": FieldType.DATETIME,
}
"""EDM primitive type -> Accord field type (floating columns read as Decimal, never float)."""

COMPUTED = "Org.OData.Core.V1.Computed"
PERMISSIONS = "Org.OData.Core.V1.Permissions"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _unqualified(name: str) -> str:
    """``mscrm.account`` / ``Microsoft.NAV.customer`` -> ``account`` / ``customer``."""
    return name.rpartition(".")[2]


@dataclass(frozen=True)
class Property:
    """One structural property of an entity type."""

    name: str
    type: str
    max_length: int | None = None
    computed: bool = False


@dataclass(frozen=True)
class Navigation:
    """A single-valued navigation property (a lookup) and the property it sets."""

    name: str
    target: str
    """The related entity type (unqualified)."""
    column: str | None
    """The lookup property of the ``ReferentialConstraint`` (``_x_value``, ``currencyId``)."""


@dataclass
class EntityType:
    """An entity type as declared (its own members; see :meth:`ServiceModel.members`)."""

    name: str
    base: str | None = None
    key: str | None = None
    properties: dict[str, Property] = field(default_factory=dict)
    navigations: list[Navigation] = field(default_factory=list)


@dataclass
class ServiceModel:
    """What one ``$metadata`` document says."""

    types: dict[str, EntityType] = field(default_factory=dict)
    sets: dict[str, str] = field(default_factory=dict)
    """Entity set name -> entity type (unqualified)."""
    enums: set[str] = field(default_factory=set)

    def set_of(self, type_name: str) -> str | None:
        """The entity set of an entity type, if it has one."""
        return next((s for s, t in self.sets.items() if t == type_name), None)

    def members(self, type_name: str) -> tuple[str | None, dict[str, Property], list[Navigation]]:
        """Key, properties and navigations of a type including those of its base types."""
        chain: list[EntityType] = []
        seen: set[str] = set()
        current: str | None = type_name
        while current and current in self.types and current not in seen:
            seen.add(current)
            chain.append(self.types[current])
            current = self.types[current].base
        key: str | None = None
        props: dict[str, Property] = {}
        navs: list[Navigation] = []
        for etype in reversed(chain):
            key = etype.key or key
            props.update(etype.properties)
            navs.extend(etype.navigations)
        return key, props, navs

    def field_type(self, prop: Property) -> FieldType | None:
        """The field type of a property; None for what cannot be mapped (binary, complex)."""
        if prop.type in EDM_TYPES:
            return EDM_TYPES[prop.type]
        return FieldType.OPTION if _unqualified(prop.type) in self.enums else None


def _read_only(element: ET.Element) -> bool:
    for note in element:
        if _local(note.tag) != "Annotation":
            continue
        term = note.get("Term", "")
        if term == COMPUTED and note.get("Bool", "true").lower() == "true":
            return True
        if term == PERMISSIONS:
            text = " ".join((m.text or "") for m in note.iter() if _local(m.tag) == "EnumMember")
            text += note.get("EnumMember", "")
            if "PermissionType/Read" in text and "ReadWrite" not in text:
                return True
    return False


def _entity_type(element: ET.Element) -> EntityType:
    etype = EntityType(
        name=element.get("Name", ""),
        base=_unqualified(element.get("BaseType", "")) or None,
    )
    for child in element:
        tag = _local(child.tag)
        if tag == "Key":
            ref = next((r for r in child.iter() if _local(r.tag) == "PropertyRef"), None)
            etype.key = ref.get("Name") if ref is not None else None
        elif tag == "Property":
            length = child.get("MaxLength")
            etype.properties[child.get("Name", "")] = Property(
                name=child.get("Name", ""),
                type=child.get("Type", ""),
                max_length=int(length) if length and length.isdigit() else None,
                computed=_read_only(child),
            )
        elif tag == "NavigationProperty" and not child.get("Type", "").startswith("Collection("):
            constraint = next((c for c in child if _local(c.tag) == "ReferentialConstraint"), None)
            etype.navigations.append(
                Navigation(
                    name=child.get("Name", ""),
                    target=_unqualified(child.get("Type", "")),
                    column=constraint.get("Property") if constraint is not None else None,
                )
            )
    return etype


def _apply_annotations(model: ServiceModel, block: ET.Element) -> None:
    """``<Annotations Target="ns.type/property">`` marking a property computed."""
    type_name, _, prop_name = block.get("Target", "").partition("/")
    etype = model.types.get(_unqualified(type_name))
    prop = etype.properties.get(prop_name) if etype else None
    if etype is not None and prop is not None and _read_only(block):
        etype.properties[prop_name] = Property(prop.name, prop.type, prop.max_length, True)


def parse_csdl(document: bytes | str, source: str) -> ServiceModel:
    """Parse a CSDL XML document; ``source`` (its URL) names it in errors."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise ConfigError(
            f"the $metadata document is not valid XML: {exc}", location=source
        ) from None
    if _local(root.tag) != "Edmx":
        raise ConfigError(
            "the $metadata document is not an OData CSDL (edmx:Edmx)", location=source
        )
    model = ServiceModel()
    blocks: list[ET.Element] = []
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "EntityType":
            etype = _entity_type(element)
            model.types[etype.name] = etype
        elif tag == "EnumType":
            model.enums.add(element.get("Name", ""))
        elif tag == "EntitySet":
            model.sets[element.get("Name", "")] = _unqualified(element.get("EntityType", ""))
        elif tag == "Annotations":
            blocks.append(element)
    for block in blocks:
        _apply_annotations(model, block)
    return model
