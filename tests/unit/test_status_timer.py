"""When the status line's timer fires: the clock just after the minute turns."""

from __future__ import annotations

import time

from hexe.server.status import until_next_minute


def test_the_clock_is_redrawn_just_after_the_minute_turns():
    base = 1_700_000_040.0  # a whole minute
    assert base % 60 == 0
    for offset in (0.0, 0.5, 17.25, 59.9):
        step = until_next_minute(base + offset)
        after = base + offset + step
        assert 0 < step <= 60.05
        # the wake lands in the next minute, a moment after it begins
        assert after // 60 == base // 60 + 1
        assert time.strftime("%H:%M", time.gmtime(after)) != time.strftime(
            "%H:%M", time.gmtime(base + offset)
        )
