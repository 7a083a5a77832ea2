"""Exchange rates as Business Central computes them for Dataverse, and the computed
``currencyRates`` entity set of the custom API group.

Microsoft's CRM synchronization writes a currency's ``exchangerate`` as the currency factor:
units of the currency per one unit of local currency, ``Exchange Rate Amount / Relational
Exch. Rate Amount`` of the currency's exchange-rate row (``CRM Synch. Helper``
``GetCRMLCYToFCYExchangeRate`` → ``GetFCYtoFCYExchangeRate`` →
``Currency Exchange Rate.GetCurrentCurrencyFactor``), rounded like
``GetCRMExchangeRateRoundingPrecision`` (10 decimals). Here the row is the newest one whose
starting date is on or before today (``Currency Exchange Rate.ExchangeRate(WorkDate, …)``); a
relational currency is followed one step, as ``ExchangeRate`` does. ADR 0011 records where
this differs from ``GetCurrentCurrencyFactor``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from accord.sandboxes.common.store import Row, Store

ZERO = Decimal(0)
PRECISION = Decimal("0.0000000001")
"""Dataverse's exchange-rate precision (and Microsoft's rounding of computed rates)."""
MIDNIGHT = "T00:00:00.000Z"


def effective(rows: Iterable[Row], code: str, today: date) -> Row | None:
    """The currency's exchange-rate row in force on ``today``: newest starting date <= today."""
    day = today.isoformat()
    candidates = [
        r
        for r in rows
        if str(r["currencyCode"]).upper() == code.upper() and r["startingDate"] <= day
    ]
    return max(candidates, key=lambda r: r["startingDate"], default=None)


def _factor(row: Row) -> Decimal:
    amount, relational = (
        Decimal(row["exchangeRateAmount"]),
        Decimal(row["relationalExchangeRateAmount"]),
    )
    return ZERO if amount == 0 or relational == 0 else amount / relational


def exchange_rate(rows: Iterable[Row], code: str, today: date) -> tuple[Decimal, Row | None]:
    """(Units of ``code`` per 1 local currency on ``today``, the row used); 0 without a rate.

    With a relational currency ``R`` on the row: ``(ER * ER_R) / (RER * RER_R)``, ``R``'s own
    row taken as of the same day (0 when ``R`` has none)."""
    rows = list(rows)
    row = effective(rows, code, today)
    if row is None:
        return ZERO, None
    factor = _factor(row)
    relational_code = str(row.get("relationalCurrencyCode") or "")
    if relational_code:
        via = effective(rows, relational_code, today)
        factor = ZERO if via is None else factor * _factor(via)
    return factor.quantize(PRECISION, rounding=ROUND_HALF_UP), row


def rate_row(currency: Row, rows: list[Row], today: date) -> Row:
    """The ``currencyRates`` row of one currency (without its version bookkeeping).

    ``lastModifiedDateTime`` is the newest of the currency's, its exchange-rate rows' (and a
    relational currency's rows') modification times and the starting date of the rate in force
    (a rate dated today changes the value at midnight without any row changing)."""
    code = str(currency["code"])
    rate, used = exchange_rate(rows, code, today)
    related = {code.upper()}
    if used is not None and used.get("relationalCurrencyCode"):
        related.add(str(used["relationalCurrencyCode"]).upper())
    stamps = [str(currency["lastModifiedDateTime"])]
    stamps += [
        str(r["lastModifiedDateTime"]) for r in rows if str(r["currencyCode"]).upper() in related
    ]
    if used is not None:
        stamps.append(f"{used['startingDate']}{MIDNIGHT}")
    return {
        "id": currency["id"],
        "code": code,
        "displayName": currency["displayName"],
        "symbol": currency["symbol"],
        "exchangeRate": rate,
        "exchangeRateDate": used["startingDate"] if used is not None else "0001-01-01",
        "lastModifiedDateTime": max(stamps),
    }


_COMPARED = ("code", "displayName", "symbol", "exchangeRate", "exchangeRateDate")


def refresh_rates(store: Store, company: str) -> None:
    """Bring the company's ``currencyRates`` rows up to date with its currencies and rates.

    A row whose value changed without a newer timestamp to show for it (a deleted rate row
    brings back an older one) is stamped with the current time, so that readers filtering on
    ``lastModifiedDateTime`` see the change."""
    today = store.clock.now().date()
    with store.transaction():
        currencies = store.all("currencies", company)
        rows = store.all("currencyExchangeRates", company)
        current: Mapping[str, Row] = {r["id"]: r for r in store.all("currencyRates", company)}
        for currency in currencies:
            row = rate_row(currency, rows, today)
            old = current.get(row["id"])
            if old is None:
                store.insert_raw("currencyRates", row, company)
                continue
            if (
                all(old[k] == row[k] for k in _COMPARED)
                and old["lastModifiedDateTime"] >= row["lastModifiedDateTime"]
            ):
                continue
            if row["lastModifiedDateTime"] <= old["lastModifiedDateTime"]:
                row["lastModifiedDateTime"] = store.now_text(store.specs["currencyRates"])
            store.update_raw("currencyRates", row["id"], row, company)
        gone = set(current) - {c["id"] for c in currencies}
        for key in gone:
            store.delete_raw("currencyRates", key, company)
