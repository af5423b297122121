"""Compiling the config into a RuleSet: the built-in importance rule."""

from __future__ import annotations

from rules_config import run

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
