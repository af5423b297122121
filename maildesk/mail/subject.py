"""A new ticket's subject without the reply and forward prefixes mail clients add. Pure.

A mail that opens a ticket may still be shaped like a reply: an answer to a closed ticket past its
reopening window, a forward of someone else's mail, a reply from someone not on the ticket. Its
"Re:", "AW:", "Відп:" or "Fwd:" say nothing about the request, and the desk's own "Re: [#7] …"
would grow with every round; they are taken off the front, as many as there are.
"""

from __future__ import annotations

import re

#: Prefixes of the clients requesters use, in the languages the desk speaks and its neighbours':
#: English, German (AW, WG), Nordic (SV, VS), Dutch (Antw), French and Spanish (TR, RV, RE, Enc),
#: Polish (Odp, PD), Italian (R, I), Ukrainian (Відп, Пересл) and Russian (Ответ, Отв, Пересл).
_WORDS = ("re", "aw", "sv", "vs", "antw", "odp", "pd", "r", "i", "fw", "fwd", "wg", "tr", "rv", "enc",
          "відп", "відповідь", "пересл", "переслати", "ответ", "отв", "переслано")
_PREFIX = re.compile(r"^\s*(?:" + "|".join(sorted(_WORDS, key=len, reverse=True)) +
                     r")\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]\s*", re.IGNORECASE)


def without_reply_prefixes(subject: str) -> str:
    """`subject` with every leading reply or forward prefix removed ("Re: AW: Fwd: x" → "x"); a
    subject that is nothing but prefixes is returned as it was."""
    rest = subject
    while (m := _PREFIX.match(rest)) is not None:
        rest = rest[m.end():]
    return rest.strip() if rest.strip() else subject
