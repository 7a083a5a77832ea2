"""Once-keys of the document history fit their column without two long keys colliding."""

from __future__ import annotations

from accord.state.documents import ONCE_KEY_LENGTH, fit_key


def test_a_short_key_is_kept_and_long_keys_sharing_a_start_stay_apart() -> None:
    assert fit_key("12:shipped:abc") == "12:shipped:abc"
    start = "12:posted:" + "x" * 300
    post, event = fit_key(start), fit_key(f"{start}:raise")
    assert post != event
    assert len(post) == len(event) == ONCE_KEY_LENGTH
    assert fit_key(start) == post  # the same key always fits the same way
