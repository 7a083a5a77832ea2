"""The custom API group's routes: the same OData behaviour as the standard v2.0 routes, plus
what the extension's AL pages and the base app do around them — table validation of the
writable entity sets, the computed ``currencyRates``, and unit groups and item units of measure
that follow item writes (the base app keeps Unit Group rows for every item)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from accord import jsonwire
from accord.sandboxes.business_central import custom_api, entities
from accord.sandboxes.business_central.app import BusinessCentral
from accord.sandboxes.business_central.availability import refresh_availability
from accord.sandboxes.business_central.custom_documents import OPERATIONS
from accord.sandboxes.business_central.exchange import refresh_rates
from accord.sandboxes.business_central.operations import Operations
from accord.sandboxes.business_central.protocol import BcOptions, error
from accord.sandboxes.common.faults import Faults
from accord.sandboxes.common.http import Req, Resp, to_response
from accord.sandboxes.common.odata import GUID_RE, ODataError
from accord.sandboxes.common.store import COMPANY, Row, Store

Endpoint = Callable[[Request], Awaitable[Response]]
ZERO_DATE = "0001-01-01"
ACTION = "Microsoft.NAV."


def not_found(url: str) -> Resp:
    """What Business Central answers for a route no installed API page serves [I]."""
    return error(
        404,
        "BadRequest_NotFound",
        f"No HTTP resource was found that matches the request URI '{url}'.",
    )


def by_prefix(endpoints: Mapping[str, Endpoint]) -> Endpoint:
    """One endpoint that hands each request to the endpoint of its longest matching prefix."""
    ordered = sorted(endpoints.items(), key=lambda item: -len(item[0]))

    async def endpoint(request: Request) -> Response:
        path = request.url.path
        for prefix, target in ordered:
            if path == prefix or path.startswith(prefix + "/"):
                return await target(request)
        return to_response(not_found(str(request.url)), "application/json; charset=utf-8")

    return endpoint


def select_rows(store: Store, entity: str, company: str, **equal: Any) -> list[Row]:
    """Every row of ``entity`` in ``company`` whose columns equal ``equal``."""
    t = store.table(entity)
    stmt = sa.select(t).where(t.c[COMPANY] == company, *(t.c[k] == v for k, v in equal.items()))
    return store.rows(stmt)


def set_columns(store: Store, entity: str, values: dict[str, Row]) -> None:
    """Set columns of rows (id -> values, the same columns for every row) in one statement,
    without a version bump: what an API page computes when it reads a row (its etag and
    modification time stay as they are)."""
    if not values:
        return
    t = store.table(entity)
    names = list(next(iter(values.values())))
    stmt = t.update().where(t.c.id == sa.bindparam("_id"))
    stmt = stmt.values({n: sa.bindparam(f"_{n}") for n in names})
    params = [{"_id": key, **{f"_{n}": row[n] for n in names}} for key, row in values.items()]
    with store.transaction():
        store.conn.execute(stmt, params)


def _dialog(message: str) -> ODataError:
    return ODataError(400, "Application_DialogException", message)


class GroupRouter(BusinessCentral):
    """Router of ``/api/accord/integration/v1.0`` (404 everywhere without the extension)."""

    def __init__(
        self, store: Store, options: BcOptions, faults: Faults, standard: BusinessCentral
    ) -> None:
        specs = (entities.BY_NAME["companies"], *custom_api.SPECS)
        super().__init__(store, options, faults, specs)
        standard.observers.append(self.item_written)
        assert standard.documents is not None
        self.operations = Operations(store, standard.documents)
        self.operations.seed()

    def dispatch(self, req: Req) -> Resp:
        if not self.options.custom_api:
            return not_found(f"{req.origin}{req.path_root}/{req.path}")
        return super().dispatch(req)

    def entity(self, req: Req, company: str, name: str, key: str | None, rest: str | None) -> Resp:
        if name == "currencyRates":
            refresh_rates(self.store, company)
        elif name == "itemAvailabilities":
            refresh_availability(self.store, company)
        elif name in OPERATIONS:
            one = key.lower() if key and GUID_RE.match(key) else None
            self.operations.refresh(company, name, one)
            if rest and rest.startswith(ACTION):
                action = rest.removeprefix(ACTION)
                return self.operations.run(company, name, key, action, req.method)
        checks = _CHECKS.get(name)
        if (
            checks is not None
            and req.method in ("POST", "PATCH")
            and not rest
            and (key is None or self._found(name, key, company))
        ):
            try:
                req = checks(self, req, company, key)
            except ODataError as exc:
                return error(exc.status, exc.code, exc.message)
            except ValueError:
                return error(400, "BadRequest", "The request body is not valid JSON.")
        resp = super().entity(req, company, name, key, rest)
        if name == "integrationItems" and req.method in ("POST", "PATCH", "DELETE"):
            # the page writes the Item table: the base app's item triggers run as for v2.0
            self.item_written(req.method, "items", company, key and key.lower(), resp)
            if 200 <= resp.status < 300 and isinstance(resp.body, dict) and resp.body.get("id"):
                item = self.store.get_raw("items", str(resp.body["id"]), company) or {}
                resp.body["baseItemUnitOfMeasureId"] = item.get("baseItemUnitOfMeasureId")
        return resp

    # ------------------------------------------------------------------ table validation
    def _found(self, name: str, key: str, company: str) -> bool:
        """The row exists (else the standard handler answers 400 or 404 for the key)."""
        return (
            bool(GUID_RE.match(key)) and self.store.get_raw(name, key.lower(), company) is not None
        )

    def _merged(self, req: Req, name: str, company: str, key: str | None) -> tuple[Row, Row]:
        """(the request body, the row it would produce: current values overlaid with it)."""
        body = req.json()
        if not isinstance(body, dict):
            raise ODataError(400, "BadRequest", "The request body must be a JSON object.")
        current: Row = {}
        if key is not None:
            current = self.store.get_raw(name, key.lower(), company) or {}
        return body, {**current, **body}

    def _computed(self, body: Row, field: str) -> None:
        """A field the page computes: refused or dropped from a write, by the read-only
        policy (the router sets it)."""
        if field in body:
            if self.options.read_only_policy == "reject":
                raise ODataError(
                    400,
                    "BadRequest",
                    f"The property '{field}' is read-only and cannot be modified.",
                )
            body.pop(field)

    def _exists(self, entity: str, field: str, value: str, company: str) -> bool:
        return bool(self.store.find_raw(entity, {field: value}, company))

    def _unique(self, name: str, row: Row, key: str | None, company: str, *fields: str) -> None:
        clash = [
            r
            for r in select_rows(self.store, name, company, **{f: row[f] for f in fields})
            if r["id"] != (key or "").lower()
        ]
        if clash:
            values = ", ".join(f"{f}='{row[f]}'" for f in fields)
            raise ODataError(
                400,
                "Internal_EntityWithSameKeyExists",
                f"The record in table {self.by_name[name].type_name} already exists. "
                f"Identification fields and values: {values}",
            )

    def _check_item_uom(self, req: Req, company: str, key: str | None) -> Req:
        """Item Unit of Measure: the item and the unit exist, quantity > 0, one row per item
        and unit; ``unitGroupCode`` is the item's unit group (read-only)."""
        body, row = self._merged(req, "itemUnitsOfMeasure", company, key)
        self._computed(body, "unitGroupCode")
        number, unit = str(row.get("itemNumber") or ""), str(row.get("unitOfMeasureCode") or "")
        if not number or not unit:
            raise _dialog(
                "itemNumber and unitOfMeasureCode must have a value in Item Unit of Measure."
            )
        if not self._exists("items", "number", number, company):
            raise _dialog(
                f"The field itemNumber of table itemUnitOfMeasure contains a value ({number}) that "
                "cannot be found in the related table (Item)."
            )
        if not self._exists("unitsOfMeasure", "code", unit, company):
            raise _dialog(
                f"The field unitOfMeasureCode of table itemUnitOfMeasure contains a value ({unit}) "
                "that cannot be found in the related table (Unit of Measure)."
            )
        quantity = row.get("quantityPerUnitOfMeasure", 1 if key is None else 0)
        if not isinstance(quantity, int | float | Decimal) or Decimal(str(quantity)) <= 0:
            raise _dialog("quantityPerUnitOfMeasure must be greater than 0.")
        body.setdefault("quantityPerUnitOfMeasure", quantity)
        self._unique("itemUnitsOfMeasure", row, key, company, "itemNumber", "unitOfMeasureCode")
        body["unitGroupCode"] = custom_api.unit_group_code("Item", number)
        return replace(req, body=jsonwire.dumps(body))

    def _check_rate(self, req: Req, company: str, key: str | None) -> Req:
        """Currency Exchange Rate: the currency (and relational currency) exist and differ, a
        starting date is given, both amounts are > 0, one row per currency and date."""
        _, row = self._merged(req, "currencyExchangeRates", company, key)
        code = str(row.get("currencyCode") or "")
        relational = str(row.get("relationalCurrencyCode") or "")
        if not code or row.get("startingDate") in (None, "", ZERO_DATE):
            raise _dialog(
                "currencyCode and startingDate must have a value in Currency Exchange Rate."
            )
        for field, value in (("currencyCode", code), ("relationalCurrencyCode", relational)):
            if value and not self._exists("currencies", "code", value, company):
                raise _dialog(
                    f"The field {field} of table currencyExchangeRate contains a value ({value}) "
                    "that cannot be found in the related table (Currency)."
                )
        if relational.upper() == code.upper():
            raise _dialog(
                "The currency code in the currencyCode field and the relationalCurrencyCode "
                "field cannot be the same."
            )
        for field in ("exchangeRateAmount", "relationalExchangeRateAmount"):
            amount = row.get(field)
            if not isinstance(amount, int | float | Decimal) or Decimal(str(amount)) <= 0:
                raise _dialog(
                    f"{field} must have a value greater than 0 in Currency Exchange Rate."
                )
        self._unique("currencyExchangeRates", row, key, company, "currencyCode", "startingDate")
        return req

    def _check_customer(self, req: Req, company: str, key: str | None) -> Req:
        """Customer: Shipping Agent Code and Primary Contact No. relate to their tables."""
        _, row = self._merged(req, "integrationCustomers", company, key)
        for field, entity, column, caption in (
            ("shippingAgentCode", "shippingAgents", "code", "Shipping Agent"),
            ("primaryContactNumber", "contacts", "number", "Contact"),
        ):
            value = str(row.get(field) or "")
            if value and not self._exists(entity, column, value, company):
                raise _dialog(
                    f"The field {field} of table integrationCustomer contains a value ({value}) "
                    f"that cannot be found in the related table ({caption})."
                )
        return req

    def _check_item(self, req: Req, company: str, key: str | None) -> Req:
        """Item: setting ``baseItemUnitOfMeasureId`` sets Base Unit of Measure to that item
        unit's code (Microsoft's ConvertUomIdToBaseUnitOfMeasure); reading it gives the
        item's own unit of its base unit of measure."""
        body, _ = self._merged(req, "integrationItems", company, key)
        unit_id = body.pop("baseItemUnitOfMeasureId", None)
        if unit_id in (None, "", entities.ZERO_GUID):
            return replace(req, body=jsonwire.dumps(body))
        unit = (
            self.store.get_raw("itemUnitsOfMeasure", str(unit_id).lower(), company)
            if GUID_RE.match(str(unit_id))
            else None
        )
        if unit is None:
            raise _dialog(f"The Item Unit of Measure with id '{unit_id}' does not exist.")
        body["baseUnitOfMeasureCode"] = unit["unitOfMeasureCode"]
        body.pop("baseUnitOfMeasureId", None)
        return replace(req, body=jsonwire.dumps(body))

    def _check_price_line(self, req: Req, company: str, key: str | None) -> Req:
        """Price List Line: ``itemUnitOfMeasureId`` (read-only) is the Item Unit of Measure
        of the line's item and unit (the item's base unit when the line has none)."""
        body, row = self._merged(req, "priceListLines", company, key)
        self._computed(body, "itemUnitOfMeasureId")
        body["itemUnitOfMeasureId"] = line_unit(self.store, company, row)
        return replace(req, body=jsonwire.dumps(body))

    def _check_code(self, req: Req, company: str, key: str | None) -> Req:
        """Tables whose primary key is ``code`` (NotBlank)."""
        _, row = self._merged(req, "shippingAgents", company, key)
        if not str(row.get("code") or "").strip():
            raise _dialog("code must have a value in Shipping Agent.")
        return req

    # ------------------------------------------------------------------ item writes
    def item_written(
        self, method: str, name: str, company: str, key: str | None, resp: Resp
    ) -> None:
        """Keep the item's Unit Group and its base unit's Item Unit of Measure (the base app
        does this on item insert, rename and delete)."""
        if name != "items":
            return
        if method == "DELETE" and key is not None:
            for group in select_rows(self.store, "unitGroups", company, sourceId=key):
                for uom in select_rows(
                    self.store, "itemUnitsOfMeasure", company, itemNumber=group["sourceNumber"]
                ):
                    self.store.delete_raw("itemUnitsOfMeasure", uom["id"], company)
                self.store.delete_raw("unitGroups", group["id"], company)
            return
        if isinstance(resp.body, dict) and resp.body.get("id"):
            item_changed(self.store, company, resp.body)


def item_changed(store: Store, company: str, item: Row) -> None:
    """Create or follow the item's unit group and base item unit of measure."""
    number, code = str(item["number"]), custom_api.unit_group_code("Item", str(item["number"]))
    values = {
        "sourceType": "Item",
        "sourceId": item["id"],
        "sourceNumber": number,
        "code": code,
        "description": item.get("displayName") or "",
    }
    groups = select_rows(store, "unitGroups", company, sourceId=item["id"])
    if not groups:
        store.insert_raw("unitGroups", values, company)
    elif any(groups[0][k] != v for k, v in values.items()):
        old = str(groups[0]["sourceNumber"])
        store.update_raw("unitGroups", groups[0]["id"], values, company)
        if old != number:
            for uom in select_rows(store, "itemUnitsOfMeasure", company, itemNumber=old):
                store.update_raw(
                    "itemUnitsOfMeasure",
                    uom["id"],
                    {"itemNumber": number, "unitGroupCode": code},
                    company,
                )
    base = str(item.get("baseUnitOfMeasureCode") or "")
    units = select_rows(
        store, "itemUnitsOfMeasure", company, itemNumber=number, unitOfMeasureCode=base
    )
    if base and not units:
        units = [
            store.insert_raw(
                "itemUnitsOfMeasure",
                {
                    "itemNumber": number,
                    "unitOfMeasureCode": base,
                    "quantityPerUnitOfMeasure": Decimal(1),
                    "unitGroupCode": code,
                },
                company,
            )
        ]
    unit_id = str(units[0]["id"]) if base and units else entities.ZERO_GUID
    set_columns(store, "items", {str(item["id"]): {"baseItemUnitOfMeasureId": unit_id}})


def line_unit(store: Store, company: str, line: Row) -> str:
    """The SystemId of a price-list line's Item Unit of Measure (all zeros when none)."""
    number, unit = str(line.get("assetNo") or ""), str(line.get("unitOfMeasureCode") or "")
    if not unit:
        items = select_rows(store, "items", company, number=number)
        unit = str(items[0]["baseUnitOfMeasureCode"] or "") if items else ""
    found = select_rows(
        store, "itemUnitsOfMeasure", company, itemNumber=number, unitOfMeasureCode=unit
    )
    return str(found[0]["id"]) if number and unit and found else entities.ZERO_GUID


_CHECKS: dict[str, Callable[[GroupRouter, Req, str, str | None], Req]] = {
    "itemUnitsOfMeasure": GroupRouter._check_item_uom,
    "currencyExchangeRates": GroupRouter._check_rate,
    "shippingAgents": GroupRouter._check_code,
    "integrationCustomers": GroupRouter._check_customer,
    "integrationItems": GroupRouter._check_item,
    "priceListLines": GroupRouter._check_price_line,
}
