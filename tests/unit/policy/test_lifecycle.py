"""Status transitions."""

from __future__ import annotations

import pytest

from maildesk.domain import Status
from maildesk.errors import InvalidTransition
from maildesk.policy.lifecycle import check_transition, closes


@pytest.mark.parametrize(("old", "new"), [(Status.NEW, Status.OPEN), (Status.OPEN, Status.PENDING),
                                          (Status.PENDING, Status.RESOLVED), (Status.CLOSED, Status.OPEN),
                                          (Status.NEW, Status.CANCELED)])
def test_allowed(old: Status, new: Status) -> None:
    # Agents may move a ticket to any other status except back to new.
    check_transition(old, new)


@pytest.mark.parametrize(("old", "new"), [(Status.OPEN, Status.OPEN), (Status.OPEN, Status.NEW)])
def test_refused(old: Status, new: Status) -> None:
    # No-op changes and returns to `new` are refused with a reason.
    with pytest.raises(InvalidTransition):
        check_transition(old, new)


def test_final_statuses() -> None:
    # closed and canceled end the work; the others do not.
    assert [s for s in Status if closes(s)] == [Status.CLOSED, Status.CANCELED]
