"""Is this mail from a person or from a machine? See :mod:`maildesk.mail.machine.classify`.

The classifier's parts: :mod:`.verdict` (the values it returns), :mod:`.headers` (never-raising header
and MIME access), :mod:`.senders` (daemon, no-reply and list-robot senders), :mod:`.bounces` (delivery,
feedback and read-receipt reports, plain-text bounces) and :mod:`.classify` (the signal tables and
the precedence chain).
"""

from maildesk.mail.machine.classify import LOOP_HEADER, classify
from maildesk.mail.machine.verdict import MailKind, OwnIdentity, RecipientStatus, Verdict

__all__ = ["LOOP_HEADER", "MailKind", "OwnIdentity", "RecipientStatus", "Verdict", "classify"]
