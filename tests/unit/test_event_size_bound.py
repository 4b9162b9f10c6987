"""The size check of an event skips its JSON dump when a quick upper bound is under the limit
(issue 8): the bound must never be below the real size, or an oversized event would pass."""
import json
import random

import pytest
from pydantic import ValidationError

from chalicelib.business.models import MAX_EVENT_BYTES, CustomEvent, _json_bytes_at_most

AWKWARD = ["a", "\"", "\\", "\x01", "\x7f", "é", "€", "😀", "\u2028", "</script>", " "]


def dumped_size(event) -> int:
    return len(json.dumps(event.model_dump(exclude_none=True, exclude={"kind"}), ensure_ascii=False,
                          separators=(",", ":")).encode())


def test_the_bound_is_never_below_the_size_as_dumped():
    rng = random.Random(8)
    for _ in range(300):
        def text(n):
            return "".join(rng.choice(AWKWARD) for _ in range(n))
        props = {text(rng.randrange(1, 12)).replace("\x01", "k").replace("\x7f", "k") or "k":
                 rng.choice([text(rng.randrange(0, 400)), rng.randrange(-10**15, 10**15),
                             rng.uniform(1, 10) * 10**rng.randrange(-99, 17), True, None])
                 for _ in range(rng.randrange(0, 8))}
        event = CustomEvent(eventId="e" + text(5).replace("\x01", "").replace("\x7f", ""),
                            name="n", userId="u", timestamp=1_764_000_000_000, properties=props)
        assert _json_bytes_at_most(event.__dict__) >= dumped_size(event)


@pytest.mark.parametrize("char", AWKWARD)
def test_the_bound_holds_for_text_made_of_one_awkward_character(char):
    event = CustomEvent(eventId="e", name="n", userId="u", timestamp=1_764_000_000_000,
                        properties={"p": (char * 1024)[:1024]})
    assert _json_bytes_at_most(event.__dict__) >= dumped_size(event)


def test_an_event_over_the_limit_is_still_refused_when_its_bound_is_near():
    """Given two properties of four-byte characters, just over the limit as dumped."""
    fill = "😀" * 1020
    with pytest.raises(ValidationError, match="at most 8,192 bytes"):
        CustomEvent(eventId="e", name="n", userId="u", timestamp=1_764_000_000_000,
                    properties={"a": fill, "b": fill})
