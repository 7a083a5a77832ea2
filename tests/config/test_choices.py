"""Naming the valid choices for a name that is not one of them."""

from __future__ import annotations

from accord.config.choices import SHOWN, choices


def test_close_names_come_first_and_a_case_slip_is_found() -> None:
    valid = ["emailaddress1", "emailaddress2", "name", "telephone1"]
    assert choices("emailadress1", valid).startswith("did you mean 'emailaddress1'")
    assert choices("Name", valid).startswith("did you mean 'name'?")
    assert choices("zzz", valid) == "valid: emailaddress1, emailaddress2, name, telephone1"


def test_long_lists_are_cut_and_counted() -> None:
    valid = [f"field{n:03}" for n in range(SHOWN + 7)]
    text = choices("nothing", valid)
    assert text.endswith(", … (7 more)") and "field000" in text and f"field{SHOWN:03}" not in text
    assert choices("x", []) == "valid: (none)"
