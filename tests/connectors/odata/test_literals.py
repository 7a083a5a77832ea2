from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from accord.connectors.base import FieldType
from accord.connectors.odata import literals as lit

GUID = "5D115C9C-44E3-EA11-BB43-000D3A2FEACA"


def test_string_doubles_single_quotes() -> None:
    assert lit.string("O'Brien's") == "'O''Brien''s'"


def test_guid_is_unquoted_and_lower_case() -> None:
    assert lit.literal(GUID, FieldType.GUID) == GUID.lower()
    assert lit.literal(GUID, FieldType.LOOKUP) == GUID.lower()
    with pytest.raises(ValueError):
        lit.guid("not-a-guid")


def test_text_that_looks_like_a_guid_stays_quoted_for_string_fields() -> None:
    assert lit.literal(GUID, FieldType.STRING) == f"'{GUID}'"


def test_datetime_precisions_and_time_zones() -> None:
    moment = datetime(2019, 8, 18, 22, 5, 51, 603_999, tzinfo=timezone(timedelta(hours=2)))
    assert lit.datetime_literal(moment, "ms") == "2019-08-18T20:05:51.603Z"
    assert lit.datetime_literal(moment, "s") == "2019-08-18T20:05:51Z"
    naive = datetime(2020, 1, 2, 3, 4, 5)
    assert lit.literal(naive) == "2020-01-02T03:04:05.000Z"


def test_scalars() -> None:
    assert lit.literal(True) == "true"
    assert lit.literal(False) == "false"
    assert lit.literal(None) == "null"
    assert lit.literal(12) == "12"
    assert lit.literal(1.5) == "1.5"


def test_eq_filter_case_insensitive_and_blank_values_skipped() -> None:
    expression = lit.eq_filter(
        {"displayName": "Adatum O'Neil", "email": "  ", "number": None, "blocked": False},
        case_sensitive=False,
        types={"displayName": FieldType.STRING, "blocked": FieldType.BOOLEAN},
    )
    assert expression == "tolower(displayName) eq 'adatum o''neil' and blocked eq false"


def test_eq_filter_case_sensitive_and_guids() -> None:
    expression = lit.eq_filter(
        {"name": "Ab", "currencyId": GUID}, types={"currencyId": FieldType.GUID}
    )
    assert expression == f"name eq 'Ab' and currencyId eq {GUID.lower()}"
    assert lit.eq_filter({"name": ""}) is None


def test_in_and_and_filters() -> None:
    assert lit.in_filter("id", [GUID, GUID.lower()], FieldType.GUID) == (
        f"id in ({GUID.lower()},{GUID.lower()})"
    )
    assert lit.and_filters(None, "a eq 1") == "a eq 1"
    assert lit.and_filters("a eq 1", "b eq 2 or c eq 3") == "(a eq 1) and (b eq 2 or c eq 3)"
    assert lit.and_filters(None, None) is None


def test_parse_datetime_is_aware_utc() -> None:
    parsed = lit.parse_datetime("2020-08-21T07:38:44.293Z")
    assert parsed == datetime(2020, 8, 21, 7, 38, 44, 293_000, tzinfo=UTC)
    assert lit.parse_datetime(None) is None
