"""When to stop sending the pieces of one article: the endpoint has stopped answering.

A piece whose transport faults (5xx, 429, timeouts, a dropped connection) outlast every
retry is a gap, and the article's other pieces are still asked, since the fault may be
that piece's alone. But when `FAILURES_IN_A_ROW` pieces in a row have each used up their
retries this way, the endpoint is most likely down for now, and every further piece would
spend the full retries (with their backoff, or their timeouts) for nothing. Then one more
piece is sent once, without retries, as a probe: answered, the breaker closes and the
article goes on as before (the earlier failures were the pieces' own, e.g. texts that
crash the server); failed too, the remaining pieces are not sent. They are gaps like any
failed piece: the claims of the pieces that were answered are kept, and the next run
asks the missing pieces again (an article with no piece answered fails, as it does when
every piece fails).

Any answer (even one that is cut or does not fit the schema) shows the endpoint works,
and resets the count. Answers taken from an earlier run's piece log say nothing about the
endpoint now, and leave it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotator.core.errors import EndpointError, TransportFailed

FAILURES_IN_A_ROW = 2


@dataclass
class TransportBreaker:
    in_a_row: int = 0  # pieces in a row whose transport faults outlasted the retries
    last_reason: str = ""  # the last of them, e.g. "server error 503 after 6 attempts"
    stopped: str | None = None  # once open: the gap reason of every piece not sent
    not_sent: int = 0  # pieces not sent since the breaker opened

    @property
    def probing(self) -> bool:
        """The next piece is the probe: sent once, without retries."""
        return self.stopped is None and self.in_a_row >= FAILURES_IN_A_ROW

    def answered(self) -> None:
        self.in_a_row = 0

    def failed(self, exc: EndpointError) -> None:
        """A piece failed for good (`exc`); only transport faults count."""
        if not isinstance(exc, TransportFailed):
            self.in_a_row = 0
            return
        was_probe = self.probing
        self.in_a_row += 1
        if not was_probe:
            self.last_reason = exc.reason
            return
        self.stopped = (
            f"not sent after {self.in_a_row} pieces in a row got no answer ({self.last_reason})"
        )

    def skip(self) -> str:
        """The gap reason of a piece not sent because the breaker is open."""
        self.not_sent += 1
        return self.stopped or ""

    def note(self) -> str:
        """What the breaker did, for the error of an article with no piece answered."""
        return (
            f"{self.not_sent} more piece(s) not sent after {self.in_a_row} in a row got no answer"
        )
