"""How long provider calls take lately, so the send guard's allowance follows the load.

A fixed allowance for a call (``SendGuard.call_s``) holds while the worker and the
provider answer in their usual time. Under overload they do not: a worker far behind on
a busy machine took more than its one-second allowance between its last look at the
clock and the provider's acceptance, and on a clock running 3,600 times faster that
second was an hour, enough to land texts at 21:01 local. So each call's wall seconds,
from the last check before it to the answer (or the timeout), are kept for
``window_s``; the allowance is ``factor`` times the longest of them. It widens as soon
as one call is slow and narrows again ``window_s`` after the slow calls: a guard that
widened for good would, on a fast clock, let nothing through and so never see a fast
call again.

Time is passed in (wall seconds), so this is pure and tests drive it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class CallTimes:
    window_s: float = 120.0
    factor: float = 2.0
    # (when, seconds), the seconds decreasing from the left: the longest recent call
    # is the leftmost (a sliding-window maximum, O(1) a call at any send rate).
    _longest: deque[tuple[float, float]] = field(default_factory=deque)

    def observe(self, took_s: float, at: float) -> None:
        """A call that ended at the wall instant ``at`` took ``took_s`` seconds."""
        while self._longest and self._longest[-1][1] <= took_s:
            self._longest.pop()  # shorter and older: never the longest again
        self._longest.append((at, took_s))
        self._forget(at)

    def allowance(self, at: float) -> float:
        """The wall seconds a call starting at ``at`` is allowed: ``factor`` times the
        longest call of the last ``window_s`` seconds (0 when none was seen)."""
        self._forget(at)
        return self.factor * self._longest[0][1] if self._longest else 0.0

    def _forget(self, at: float) -> None:
        while self._longest and self._longest[0][0] < at - self.window_s:
            self._longest.popleft()
