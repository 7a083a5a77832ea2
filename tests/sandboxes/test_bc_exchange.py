"""Exchange rates as Business Central computes Dataverse's ``exchangerate``: the row in force
today among several starting dates, relational amounts and a relational currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from accord.sandboxes.business_central.exchange import exchange_rate, rate_row

TODAY = date(2026, 11, 27)


def row(code: str, start: str, amount: str, relational: str, via: str = "", **extra: str) -> dict:
    return {
        "currencyCode": code,
        "startingDate": start,
        "exchangeRateAmount": Decimal(amount),
        "relationalCurrencyCode": via,
        "relationalExchangeRateAmount": Decimal(relational),
        "lastModifiedDateTime": extra.get("modified", "2026-01-01T00:00:00.000Z"),
    }


RATES = [
    row("EUR", "2026-01-01", "100", "105"),
    row("EUR", "2026-11-27", "100", "108.695652"),  # in force from today
    row("EUR", "2026-12-15", "100", "120"),  # future: not yet
    row("DKK", "2026-06-01", "100", "13.41", via="EUR"),
    row("JPY", "2026-10-01", "1000", "6.613757"),
]


def test_newest_starting_date_on_or_before_today_wins() -> None:
    rate, used = exchange_rate(RATES, "EUR", TODAY)
    assert used is not None and used["startingDate"] == "2026-11-27"
    assert rate == Decimal("0.9200000015")  # 100 / 108.695652, 10 decimals
    earlier, _ = exchange_rate(RATES, "EUR", date(2026, 11, 26))
    assert earlier == Decimal("0.9523809524")  # 100 / 105
    later, _ = exchange_rate(RATES, "EUR", date(2026, 12, 15))
    assert later == Decimal("0.8333333333")


def test_relational_amounts_and_relational_currency() -> None:
    jpy, _ = exchange_rate(RATES, "JPY", TODAY)
    assert jpy == (Decimal(1000) / Decimal("6.613757")).quantize(Decimal("0.0000000001"))
    dkk, used = exchange_rate(RATES, "DKK", TODAY)
    expected = (Decimal(100) * Decimal(100)) / (Decimal("13.41") * Decimal("108.695652"))
    assert used is not None and used["relationalCurrencyCode"] == "EUR"
    assert dkk == expected.quantize(Decimal("0.0000000001"))
    assert isinstance(dkk, Decimal)


def test_no_rate_in_force_is_zero() -> None:
    assert exchange_rate(RATES, "GBP", TODAY) == (Decimal(0), None)
    before_any, _ = exchange_rate(RATES, "EUR", date(2025, 12, 31))
    assert before_any == 0
    orphan = [row("SEK", "2026-01-01", "100", "9", via="NOK")]
    assert exchange_rate(orphan, "SEK", TODAY)[0] == 0


def test_rate_row_modified_is_the_newest_of_currency_rates_and_start() -> None:
    currency = {
        "id": "c1",
        "code": "EUR",
        "displayName": "Euro",
        "symbol": "€",
        "lastModifiedDateTime": "2026-02-01T10:00:00.000Z",
    }
    out = rate_row(currency, RATES, TODAY)
    # the rate dated today took effect at midnight, after every row's own change
    assert out["lastModifiedDateTime"] == "2026-11-27T00:00:00.000Z"
    assert out["exchangeRate"] == Decimal("0.9200000015") and out["id"] == "c1"
    touched = [
        *RATES[:1],
        row("EUR", "2026-11-27", "100", "108.695652", modified="2026-11-27T09:30:00.000Z"),
    ]
    assert rate_row(currency, touched, TODAY)["lastModifiedDateTime"] == "2026-11-27T09:30:00.000Z"
