"""Business Central sales document lines: BC's validation of a line (item, unit of measure,
comment lines, quantities shipped) and its amounts and tax."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa

from accord.sandboxes.business_central.custom_documents import header_status
from accord.sandboxes.business_central.documents import DocumentKind
from accord.sandboxes.business_central.entities import ZERO_GUID
from accord.sandboxes.business_central.protocol import coerce_body
from accord.sandboxes.common.odata import ODataError
from accord.sandboxes.common.store import COMPANY, Row, Store

if TYPE_CHECKING:
    from accord.sandboxes.business_central.resources import BcResources

CENT = Decimal("0.01")
SALES_TAX = Decimal("6")
"""[I] Sales tax percent on item lines of a tax-liable customer (the sandbox's one tax area)."""


def money(value: object) -> Decimal:
    """An amount rounded to the cent, half away from zero (BC's amount rounding)."""
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def dialog(message: str) -> ODataError:
    """BC's answer to a failed validation."""
    return ODataError(400, "Application_DialogException", message)


class LineRules:
    """Line validation and amounts, shared by the document routes and the postings."""

    store: Store
    res: BcResources
    _series: dict[tuple[str, str, str], int]
    """Last number per (entity, prefix, company) handed out by :meth:`next_number`."""

    lines: Callable[[str, DocumentKind, str], list[Row]]
    """A document's lines in sequence order (the routes class defines it)."""

    def add_line(self, company: str, kind: DocumentKind, header: Row, body: Row) -> Row:
        spec = self.store.specs[kind.lines]
        given = coerce_body(spec, body, self.res.options, creating=True)
        given["documentId"] = header["id"]
        if not given.get("sequence"):
            existing = [line["sequence"] for line in self.lines(company, kind, header["id"])]
            given["sequence"] = max(existing, default=0) + 10000
        values = self.line_values(company, kind, header, given, given)
        self.store.check_rejects(spec.name, values)
        return self.store.insert_raw(kind.lines, values, company)

    def line_values(
        self, company: str, kind: DocumentKind, header: Row, line: Row, changed: Row
    ) -> Row:
        """A line's values with its item, unit and amounts resolved (BC's validation)."""
        out = dict(line)
        if out.get("accountId") not in (None, ZERO_GUID) and "lineType" not in changed:
            out["lineType"] = "Account"
        line_type = out.get("lineType") or "Item"
        out["lineType"] = line_type
        quantity = Decimal(str(out.get("quantity") or 0))
        if line_type == "Comment":
            if quantity or out.get("unitPrice"):
                raise dialog("Quantity and Unit Price must be empty on a Comment line.")
            return self.amounts(kind, header, out, company, taxable=False)
        if line_type == "Item":
            item = self.item(company, out, changed)
            out["itemId"], out["lineObjectNumber"] = item["id"], item["number"]
            if "description" not in changed and not out.get("description"):
                out["description"] = item["displayName"]
            if "unitPrice" not in changed and not out.get("unitPrice"):
                out["unitPrice"] = item["unitPrice"]
            self.unit(company, out, changed, item)
        shipped = Decimal(str(out.get("shippedQuantity") or 0))
        if quantity < shipped:
            raise dialog(
                f"Quantity must not be less than Quantity Shipped ({shipped}) in Sales Line "
                f"Line No.={out.get('sequence')}."
            )
        if kind.header == "salesOrders":
            invoiced = Decimal(str(out.get("invoicedQuantity") or 0))
            if "shipQuantity" not in changed:
                out["shipQuantity"] = quantity - shipped
            if "invoiceQuantity" not in changed:
                out["invoiceQuantity"] = quantity - invoiced
            if out.get("shipmentDate", "0001-01-01") == "0001-01-01":
                wanted = header.get("requestedDeliveryDate")
                out["shipmentDate"] = (
                    wanted if wanted and wanted != "0001-01-01" else header["orderDate"]
                )
        return self.amounts(kind, header, out, company, taxable=line_type == "Item")

    def item(self, company: str, out: Row, changed: Row) -> Row:
        iid, number = out.get("itemId"), out.get("lineObjectNumber")
        if "lineObjectNumber" in changed and "itemId" not in changed:
            iid = None
        row: Row | None = None
        if iid and iid != ZERO_GUID:
            row = self.store.get_raw("items", iid, company)
        elif number:
            found = self.store.find_raw("items", {"number": number}, company)
            row = found[0] if found else None
        if row is None:
            ref = f"Id='{iid}'" if iid and iid != ZERO_GUID else f"No.='{number or ''}'"
            raise dialog(f"The Item does not exist. Identification fields and values: {ref}")
        if row["blocked"]:
            raise dialog(
                f"Blocked must be equal to 'No'  in Item: No.={row['number']}. Current value "
                "is 'Yes'."
            )
        return row

    def unit(self, company: str, out: Row, changed: Row, item: Row) -> None:
        uid, code = out.get("unitOfMeasureId"), out.get("unitOfMeasureCode")
        if "unitOfMeasureId" in changed and uid and uid != ZERO_GUID:
            unit = self.store.get_raw("unitsOfMeasure", uid, company)
        elif "unitOfMeasureCode" in changed and code:
            found = self.store.find_raw("unitsOfMeasure", {"code": code}, company)
            unit = found[0] if found else None
        else:
            out["unitOfMeasureId"] = out.get("unitOfMeasureId") or item["baseUnitOfMeasureId"]
            if out["unitOfMeasureId"] in (None, ZERO_GUID):
                out["unitOfMeasureId"] = item["baseUnitOfMeasureId"]
                out["unitOfMeasureCode"] = item["baseUnitOfMeasureCode"]
            return
        if unit is None:
            raise dialog(
                "The Unit of Measure does not exist. Identification fields and values: "
                f"Code='{code or uid}'"
            )
        out["unitOfMeasureId"], out["unitOfMeasureCode"] = unit["id"], unit["code"]

    def amounts(
        self, kind: DocumentKind, header: Row, out: Row, company: str, *, taxable: bool
    ) -> Row:
        spec = self.store.specs[kind.lines]
        quantity = Decimal(str(out.get("quantity") or 0))
        gross = money(quantity * Decimal(str(out.get("unitPrice") or 0)))
        percent = Decimal(str(out.get("discountPercent") or 0))
        discount = money(gross * percent / 100) if percent else money(out.get("discountAmount"))
        net = gross - discount
        customer = self.store.get_raw("customers", header["customerId"], company)
        rate = SALES_TAX if taxable and customer is not None and customer["taxLiable"] else 0
        tax = money(net * rate / 100)
        values = {
            "discountAmount": discount,
            "amountExcludingTax": net,
            "taxPercent": Decimal(rate),
            "totalTaxAmount": tax,
            "amountIncludingTax": net + tax,
            "netAmount": net,
            "netTaxAmount": tax,
            "netAmountIncludingTax": net + tax,
            "invoiceDiscountAllocation": Decimal(0),
            "taxCode": "TAXABLE" if rate else "",
        }
        out.update({k: v for k, v in values.items() if k in spec.field_map})
        return out

    def check_removable(self, kind: DocumentKind, header: Row, line: Row) -> None:
        shipped = Decimal(str(line.get("shippedQuantity") or 0))
        invoiced = Decimal(str(line.get("invoicedQuantity") or 0))
        if kind.header == "salesOrders" and shipped > invoiced:
            raise dialog(
                "Qty. Shipped Not Invoiced must be equal to '0'  in Sales Line: Document "
                f"Type=Order, Document No.={header['number']}, Line No.={line['sequence']}. "
                f"Current value is '{shipped - invoiced}'."
            )

    def editable(self, kind: DocumentKind, header: Row, *, released_ok: bool = False) -> None:
        """The document may change: not posted, and (orders, quotes) not released unless the
        change is one BC allows on a released order (``released_ok``)."""
        if header["status"] not in kind.editable:
            raise dialog(
                f"{kind.type_name} {header['number']} has been posted and can no longer be "
                "modified."
            )
        if released_ok:
            return
        status = header_status(self.store, kind.header, header["id"], header.get(COMPANY))
        if status != "Open":
            raise dialog(
                f"Status must be equal to 'Open'  in Sales Header: Document Type="
                f"{kind.type_name}, No.={header['number']}. Current value is '{status}'."
            )

    def totals(self, company: str, kind: DocumentKind, key: str) -> Row:
        """Recompute a header's totals (and an order's fully-shipped flag) from its lines."""
        spec = self.store.specs[kind.header]
        header = self.store.get_raw(kind.header, key, company)
        assert header is not None
        lines = self.lines(company, kind, key)
        net = sum((money(line["amountExcludingTax"]) for line in lines), Decimal(0))
        tax = sum((money(line["totalTaxAmount"]) for line in lines), Decimal(0))
        values: Row = {
            "totalAmountExcludingTax": net,
            "totalTaxAmount": tax,
            "totalAmountIncludingTax": net + tax,
        }
        if "fullyShipped" in spec.field_map:
            real = [line for line in lines if line["lineType"] != "Comment"]
            values["fullyShipped"] = bool(real) and all(  # a FlowField Min(): false on none
                Decimal(str(line["shippedQuantity"])) >= Decimal(str(line["quantity"]))
                for line in real
            )
        if all(header.get(k) == v for k, v in values.items()):
            return header
        updated = self.store.update_raw(kind.header, key, values, company)
        assert updated is not None
        return updated

    def next_number(self, entity: str, prefix: str, width: int, company: str) -> str:
        """The next number of a series over ``entity``'s numbers (``PS-INV100001``)."""
        with self.store.transaction():
            key = (entity, prefix, company)
            if key not in self._series:
                t = self.store.table(entity)
                top = self.store.scalar(
                    sa.select(t.c.number)
                    .where(t.c[COMPANY] == company, t.c.number.like(f"{prefix}%"))
                    .order_by(sa.func.length(t.c.number).desc(), t.c.number.desc())
                    .limit(1)
                )
                digits = str(top)[len(prefix) :] if top else ""
                self._series[key] = int(digits) if digits.isdigit() else 0
            self._series[key] += 1
            return f"{prefix}{self._series[key]:0{width}d}"
