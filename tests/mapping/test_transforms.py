from __future__ import annotations

from decimal import Decimal

import pytest

from accord.errors import ConfigError
from accord.mapping.transforms import compile_transform


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("trim|upper", "  adatum ", "ADATUM"),
        ("truncate:3", "abcdef", "abc"),
        ("remove_non_alnum|upper|truncate:20", "Annette Hill-Smith", "ANNETTEHILLSMITH"),
        ("replace:-,/", "a-b-c", "a/b/c"),
        ("regex_replace:[0-9]+,#", "ab12cd3", "ab#cd#"),
        ("round:1", 2.345, 2.3),
        ("round:2", "1.005", 1.01),
        ("date_format:%d.%m.%Y", "2026-03-04", "04.03.2026"),
        ("date_format:%Y", "2026-03-04T10:00:00Z", "2026"),
        ("default:n/a", "", "n/a"),
        ("first_word", "Ann Lee Smith", "Ann"),
        ("after_first_word", "Ann Lee Smith", "Lee Smith"),
        ("substring:1,2", "abcd", "bc"),
        ("upper", None, None),
        ("negate", Decimal("2.50"), Decimal("-2.50")),
        ("negate", -3, Decimal(3)),
        ("negate", None, None),
    ],
)
def test_transforms(spec: str, value: object, expected: object) -> None:
    assert compile_transform(spec)(value) == expected


def test_unknown_transform_lists_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        compile_transform("trim|shout", location="t.yaml: mappings[X].fields[a:b].transform")
    assert "shout" in str(err.value) and "upper" in str(err.value)
    assert "t.yaml" in str(err.value)


def test_bad_argument_is_reported() -> None:
    with pytest.raises(ConfigError, match="truncate"):
        compile_transform("truncate:many")
