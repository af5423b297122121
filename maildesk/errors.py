"""The one root of maildesk's errors.

    MaildeskError
    ├── ConfigError            a config file or value is wrong; names the file and key
    ├── StoreError             the database could not take or give data
    │   └── StoreUnavailable   ...and trying again later may work (SMTP 451, exit 75)
    ├── MessageRejected        an inbound message will never be accepted (too big, empty)
    ├── MailParseError         raw bytes could not be turned into a message
    ├── TicketNotFound         a ticket id names no ticket
    ├── InvalidTransition      a status change the lifecycle does not allow
    ├── UsageProblem           an admin's request names what is not there (an agent, a message, a file)
    ├── DeliveryError          outbound mail could not be handed over
    │   ├── TransientDeliveryError   try again later
    │   └── PermanentDeliveryError   do not try again
    ├── MailboxUnavailable     an IMAP mailbox could not be reached or read; retry later
    │   └── MailboxAuthError   ...because the server refused our credentials or token
    ├── BrokerUnavailable      the shared queue (Redis, RabbitMQ) could not be reached or did not answer
    └── StartError             a long-running process could not start (address taken, child died)

Expected outcomes (a follow-up, a new ticket, a suppressed acknowledgement) are
values, never exceptions. Third-party errors are re-raised as one of these
`from` the original at the module that owns the library.
"""

from __future__ import annotations


class MaildeskError(Exception):
    """Raised for any failure maildesk knows how to report."""


class ConfigError(MaildeskError):
    """Raised when the configuration file or one of its values is wrong."""


class StoreError(MaildeskError):
    """Raised when the database rejects or loses an operation."""


class StoreUnavailable(StoreError):
    """Raised when the database cannot be reached or is busy; retrying may work."""


class MessageRejected(MaildeskError):
    """Raised when an inbound message is refused for good (too large, empty)."""


class MailParseError(MaildeskError):
    """Raised when raw bytes cannot be turned into a parsed message."""


class TicketNotFound(MaildeskError):
    """Raised when a ticket id names no ticket."""


class InvalidTransition(MaildeskError):
    """Raised when a status change is not allowed by the lifecycle."""


class UsageProblem(MaildeskError):
    """Raised when an admin's request cannot be carried out as asked: an unknown agent, a message or
    file number the ticket does not have, a file already there."""


class DeliveryError(MaildeskError):
    """Raised when an outbound message could not be handed to the relay."""


class TransientDeliveryError(DeliveryError):
    """Raised when delivery failed in a way that a later retry may fix."""


class PermanentDeliveryError(DeliveryError):
    """Raised when delivery failed for good (5xx from the relay, bad address)."""


class MailboxUnavailable(MaildeskError):
    """Raised when an IMAP mailbox cannot be reached, read or changed; a later retry may work."""


class MailboxAuthError(MailboxUnavailable):
    """Raised when an IMAP server refuses the login (wrong password, expired OAuth2 token)."""


class BrokerUnavailable(MaildeskError):
    """Raised when the shared queue (Redis, RabbitMQ) cannot be reached or does not answer; the
    database still holds every row."""


class StartError(MaildeskError):
    """Raised when `serve` cannot start: its address is taken, or its pipeline process died."""
