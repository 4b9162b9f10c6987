"""One log line per failure episode, not one per failed attempt.

An agent that retries every 10 s would otherwise write the same warning
8 640 times a day. An episode starts at the first failure (logged, with the
reason) and ends when the caller says things are fine again (logged once, with
a summary); failures in between only go to DEBUG, prefixed "still failing: ".
"""

from __future__ import annotations

import logging


class FailureEpisode:
    """Tracks whether something is currently failing, logging only edges."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self.active = False

    def failed(self, message: str, *args: object) -> None:
        """Report a failure; logs a WARNING only if no episode is running."""
        if self.active:
            self._log.debug("still failing: " + message, *args)
            return
        self.active = True
        self._log.warning(message, *args)

    def recovered(self, message: str | None = None, *args: object) -> None:
        """End the episode (if one is running), logging `message` at INFO."""
        if not self.active:
            return
        self.active = False
        if message:
            self._log.info(message, *args)
