"""Telling systemd the truth about `maildesk serve` (sd_notify(3)), in a few lines of stdlib.

Under `Type=notify` systemd passes `$NOTIFY_SOCKET`, an AF_UNIX datagram socket (a path, or an
abstract name written with a leading "@"), and each state change is one datagram of
"KEY=value" lines: READY=1 once mail can be taken, RELOADING=1 … READY=1 around a SIGHUP,
WATCHDOG=1 from the loop that proves the daemon is alive, STOPPING=1 when it starts to stop.
Without the variable (a terminal, the tests, another supervisor) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import MutableMapping

log = logging.getLogger(__name__)

ENV = "NOTIFY_SOCKET"


class Systemd:
    """The notification socket this process was given, if any."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._warned = False  # one warning, not one per watchdog round

    @classmethod
    def from_environment(cls, environ: MutableMapping[str, str] = os.environ) -> Systemd:
        """Take `$NOTIFY_SOCKET` out of the environment, so the processes we start do not inherit it
        (systemd would ignore their messages, but a child that is itself a notifying service must
        not talk to our manager)."""
        return cls(environ.pop(ENV, None) or None)

    def ready(self, status: str = "") -> None:
        """Mail can be taken: the listener is bound and the workers run."""
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def reloading(self) -> None:
        """A SIGHUP is being handled; `ready()` follows."""
        self._send("RELOADING=1")

    def watchdog(self) -> None:
        """The main loop went round once more (WatchdogSec= restarts us when this stops)."""
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        """Shutting down: no new mail is taken from here on."""
        self._send("STOPPING=1")

    def _send(self, state: str) -> None:
        if not self.address:
            return
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(target)
                sock.sendall(state.encode())
        except OSError as exc:  # The manager went away or the socket is wrong: not a reason to stop.
            if not self._warned:
                log.warning("could not tell systemd %s at %s: %s", state.split("\n")[0], self.address, exc)
                self._warned = True
