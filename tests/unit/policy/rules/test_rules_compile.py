"""Compiling the config into a RuleSet: the built-in importance rule and case-folded regexes."""

from __future__ import annotations

import pytest
from rules_config import one_rule_hits, run

from maildesk.policy.rules import IMPORTANCE_RULE


def test_importance_high_default_rule() -> None:
    # Importance: high or X-Priority: 1 gives priority high; the default can be turned off.
    assert run("", importance_high=True, headers=(("Importance", "High"),)).priority == "high"
    hit = run("", importance_high=True, headers=(("X-Priority", "1 (Highest)"),))
    assert hit.priority == "high" and hit.hits[0].name == IMPORTANCE_RULE
    assert run("", importance_high=True, headers=(("X-Priority", "3 (Normal)"),)).priority == "normal"
    assert run("", importance_high=False, headers=(("Importance", "high"),)).priority == "normal"


def test_user_rule_overrides_importance() -> None:
    # The importance rule runs first, so an admin's rule can lower the priority again.
    out = run('[[rules]]\nname = "low"\nwhen = { field = "from_domain", match = "robot.example" }\n'
              'then = { priority = "low" }\n', importance_high=True,
              headers=(("Importance", "high"),), sender="x@robot.example")
    assert out.priority == "low" and [h.name for h in out.hits] == [IMPORTANCE_RULE, "low"]


@pytest.mark.parametrize(
    ("when", "subject", "hits"),
    [
        # \S must stay \S when the pattern's letters are folded, or it would mean \s.
        pytest.param(r"""{ field = "subject", regex = '^\S+$' }""", "PRINTER", True, id="escape-kept"),
        pytest.param(r"""{ field = "subject", regex = '^\S+$' }""", "PRINTER JAM", False, id="escape-kept-miss"),
        pytest.param(r"""{ field = "subject", regex = 'Drucker' }""", "DRUCKER kaputt", True, id="folded-literal"),
        # \x41 names "A" by number: folding cannot see it, so the pattern keeps IGNORECASE.
        pytest.param(r"""{ field = "subject", regex = '^\x41LARM' }""", "alarm", True, id="hex-escape-ignorecase"),
        pytest.param(r"""{ field = "subject", regex = '(?i:VPN)' }""", "vpn down", True, id="inline-flag"),
        # Folded, [Z-a] becomes the invalid range [z-a]: the original pattern is kept, with IGNORECASE.
        pytest.param(r"""{ field = "subject", regex = '^[Z-a]$' }""", "_", True, id="unfoldable-range"),
        pytest.param(r"""{ field = "subject", regex = 'VIP', case_sensitive = true }""", "vip", False,
                     id="case-sensitive-not-folded"),
    ],
)
def test_regex_conditions_match_case_insensitively_as_written(when: str, subject: str, hits: bool) -> None:
    # Scenario: case-insensitive regexes are compiled folded for speed yet match as the admin wrote them.
    assert one_rule_hits(when, subject=subject) is hits
