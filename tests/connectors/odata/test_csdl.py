"""CSDL ``$metadata`` parsing and the overlay of metadata on static entity descriptors."""

from __future__ import annotations

import pytest

from accord.connectors.base import ChangeTracking, EntityInfo, FieldInfo, FieldType
from accord.connectors.odata.csdl import parse_csdl
from accord.connectors.odata.described import Defaults, describe
from accord.errors import ConfigError

DOC = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
 <edmx:DataServices>
  <Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm"
          xmlns="http://docs.oasis-open.org/odata/ns/edm">
   <EnumType Name="tier"><Member Name="gold" Value="1"/></EnumType>
   <EntityType Name="crmbaseentity" Abstract="true"/>
   <EntityType Name="activity" BaseType="mscrm.crmbaseentity">
    <Key><PropertyRef Name="activityid"/></Key>
    <Property Name="activityid" Type="Edm.Guid"/>
    <Property Name="modifiedon" Type="Edm.DateTimeOffset"/>
   </EntityType>
   <EntityType Name="task" BaseType="mscrm.activity">
    <Property Name="subject" Type="Edm.String" MaxLength="200"/>
   </EntityType>
   <EntityType Name="account" BaseType="mscrm.crmbaseentity">
    <Key><PropertyRef Name="accountid"/></Key>
    <Property Name="accountid" Type="Edm.Guid"/>
    <Property Name="name" Type="Edm.String" Unicode="false"/>
    <Property Name="paymenttermscode" Type="Edm.Int32"/>
    <Property Name="openrevenue" Type="Edm.Decimal" Scale="Variable">
     <Annotation Term="Org.OData.Core.V1.Permissions">
      <EnumMember>Org.OData.Core.V1.PermissionType/Read</EnumMember>
     </Annotation>
    </Property>
    <Property Name="latitude" Type="Edm.Double"/>
    <Property Name="entityimage" Type="Edm.Binary"/>
    <Property Name="tier" Type="mscrm.tier"/>
    <Property Name="versionnumber" Type="Edm.Int64"/>
    <Property Name="_parentid_value" Type="Edm.Guid">
     <Annotation Term="Org.OData.Core.V1.Computed" Bool="true"/>
    </Property>
    <NavigationProperty Name="parentid_account" Type="mscrm.account" Nullable="false">
     <ReferentialConstraint Property="_parentid_value" ReferencedProperty="accountid"/>
    </NavigationProperty>
    <NavigationProperty Name="parentid_contact" Type="mscrm.contact" Nullable="false">
     <ReferentialConstraint Property="_parentid_value" ReferencedProperty="contactid"/>
    </NavigationProperty>
    <NavigationProperty Name="Account_Tasks" Type="Collection(mscrm.task)"/>
   </EntityType>
   <EntityContainer Name="System">
    <EntitySet Name="accounts" EntityType="mscrm.account"/>
    <EntitySet Name="tasks" EntityType="mscrm.task"/>
   </EntityContainer>
   <Annotations Target="mscrm.account/versionnumber">
    <Annotation Term="Org.OData.Core.V1.Computed" Bool="true"/>
   </Annotations>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>"""

DV = Defaults(ChangeTracking.DELTA, True, 5000, 1000, ("modifiedon",), bind_lookups=True)


def test_types_read_only_and_inherited_keys_are_read() -> None:
    model = parse_csdl(DOC, "test")
    key, props, navs = model.members("task")
    assert key == "activityid" and set(props) == {"activityid", "modifiedon", "subject"}
    assert props["subject"].max_length == 200
    _, props, navs = model.members("account")
    assert props["openrevenue"].computed and props["_parentid_value"].computed
    assert props["versionnumber"].computed and not props["name"].computed
    assert [n.name for n in navs] == ["parentid_account", "parentid_contact"]
    assert model.field_type(props["latitude"]) is FieldType.DECIMAL
    assert model.field_type(props["tier"]) is FieldType.OPTION
    assert model.field_type(props["entityimage"]) is None


def test_not_a_metadata_document_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="https://x/\\$metadata: the \\$metadata document"):
        parse_csdl("<html>", "https://x/$metadata")
    with pytest.raises(ConfigError, match="not an OData CSDL"):
        parse_csdl("<html/>", "https://x/$metadata")


def test_metadata_overlays_the_static_descriptor() -> None:
    static = EntityInfo(
        "accounts",
        "accountid",
        {
            "accountid": FieldInfo("accountid", FieldType.GUID, read_only=True),
            "name": FieldInfo("name", max_length=160),
            "paymenttermscode": FieldInfo("paymenttermscode", FieldType.OPTION),
            "gone": FieldInfo("gone"),
        },
        natural_key="name",
        max_batch_size=7,
    )
    found = describe({"accounts": static}, {None: parse_csdl(DOC, "t")}, lambda i: None, DV)
    accounts = found.entities["accounts"]
    assert accounts.natural_key == "name" and accounts.max_batch_size == 7
    fields = accounts.fields
    assert "gone" not in fields  # the tenant does not have it
    assert fields["name"].max_length == 160  # kept: the document gives no length
    assert fields["paymenttermscode"].type is FieldType.OPTION  # kept: the document says Int32
    assert fields["openrevenue"].read_only and fields["openrevenue"].type is FieldType.DECIMAL
    parent = fields["_parentid_value"]
    assert parent.type is FieldType.LOOKUP and not parent.read_only
    assert (parent.lookup_entity, parent.write_as) == ("accounts", "parentid_account")
    assert "entityimage" not in fields
    tasks = found.entities["tasks"]  # only the document knows it
    assert (tasks.key, tasks.modified_field, tasks.change_tracking) == (
        "activityid",
        "modifiedon",
        ChangeTracking.DELTA,
    )


def test_an_absent_api_group_makes_its_entities_missing() -> None:
    static = {
        "accounts": EntityInfo("accounts", "accountid", {}),
        "extras": EntityInfo("extras", "id", {}),
        "account.paymenttermscode": EntityInfo("account.paymenttermscode", "value", {}),
        "account.industrycode": EntityInfo("account.industrycode", "value", {}),
    }
    found = describe(
        static,
        {None: parse_csdl(DOC, "t"), "contoso/extras/v1.0": None},
        lambda i: "contoso/extras/v1.0" if i.name == "extras" else None,
        DV,
        keep={
            "account.paymenttermscode": ("account", "paymenttermscode"),
            "account.industrycode": ("account", "industrycode"),  # not a column of this org
        },
    )
    assert found.missing_groups == {"extras": "contoso/extras/v1.0"}
    assert set(found.entities) == {"accounts", "tasks", "account.paymenttermscode"}
