"""What `maildesk mailboxes status` reports: each configured account joined with its fetch state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from maildesk.config import ImapAccount, Settings
from maildesk.store.db import Database
from maildesk.store.imap_state import MailboxStatus, mailbox_statuses


@dataclass(frozen=True)
class AccountReport:
    """One configured account and what the fetcher last recorded for it (None: never tried)."""

    account: ImapAccount
    state: MailboxStatus | None

    @property
    def healthy(self) -> bool:
        """Fetched at least once and not failing now."""
        return self.state is not None and self.state.failing_since is None and \
            self.state.last_success_at is not None

    def lines(self, now: datetime) -> list[str]:
        """Human-readable lines for the terminal, first the summary, then details."""
        a, s = self.account, self.state
        head = f"{a.name}: {a.username} at {a.host}:{a.port} ({a.tls}), folder {a.folder}, {a.after}" + (
            f" to {a.move_to}" if a.after == "move" else " \\Seen")
        if s is None:
            return [head, "  never fetched (is `maildesk serve` running?)"]
        out = [head, f"  last successful fetch: {_when(s.last_success_at, now)}",
               f"  stored: {s.fetched}, backlog: {s.backlog}, "
               f"last UID {s.last_uid} (UIDVALIDITY {s.uidvalidity})"]
        if s.failing_since is not None:
            out.append(f"  FAILING since {_when(s.failing_since, now)}: {s.last_error}")
        elif s.last_error:
            out.append(f"  last error ({_when(s.last_error_at, now)}, recovered): {s.last_error}")
        if a.auth == "xoauth2":
            out.append(f"  OAuth2 token expires: {_when(s.token_expires_at, now)}")
        return out

    def as_json(self) -> dict[str, object]:
        """A JSON-friendly view for scripts and monitoring."""
        s = self.state
        return {"account": self.account.name, "host": self.account.host, "folder": self.account.folder,
                "mode": self.account.after, "healthy": self.healthy,
                "last_success_at": _iso(s.last_success_at) if s else None,
                "failing_since": _iso(s.failing_since) if s else None,
                "last_error": s.last_error if s else "", "backlog": s.backlog if s else None,
                "stored": s.fetched if s else 0,
                "token_expires_at": _iso(s.token_expires_at) if s else None}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    seconds = int((now - at).total_seconds())
    ago = f"{-seconds}s from now" if seconds < 0 else f"{seconds}s ago"
    return f"{at:%Y-%m-%d %H:%M:%S} UTC ({ago})"


def account_reports(db: Database, settings: Settings) -> list[AccountReport]:
    """Every `[[imap]]` account in config order, with its state for its configured folder."""
    with db.transaction() as session:
        states = {(s.account, s.folder): s for s in mailbox_statuses(session)}
    return [AccountReport(a, states.get((a.name, a.folder))) for a in settings.imap]
