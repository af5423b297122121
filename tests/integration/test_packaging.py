"""A non-editable install carries everything maildesk needs at run time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

CHECK = """
import sys, tempfile, pathlib
import maildesk
from maildesk.notices.render import Renderer
from maildesk.store import migrate
from maildesk.store.db import Database
assert pathlib.Path(maildesk.__file__).is_relative_to(sys.argv[1]), maildesk.__file__
for lang in ("en", "uk", "ru"):
    Renderer().render("status_pending", lang, {"tagged_subject": "[#1] x", "requester_name": "", "tag": "[#1]",
                                             "reason": "", "desk_name": "Support", "signature": ""})
assert Renderer().exists("ack/hardware", "uk")
with tempfile.TemporaryDirectory() as tmp:
    db = Database(f"sqlite:///{tmp}/x.sqlite3")
    before, after = migrate.upgrade(db)
    assert after == migrate.head_revision() and migrate.current_revision(db) == after
print("ok")
"""


def test_non_editable_install_has_templates_and_migrations(tmp_path: Path) -> None:
    # `pip install .` (not editable) into a fresh folder: templates render and migrations run from there.
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                              str(target), str(REPO)], capture_output=True, timeout=300, cwd=tmp_path)
    assert install.returncode == 0, install.stderr.decode()[-2000:]
    # Every built-in template is package data; the example overrides in the repository's own
    # templates/ folder are documentation to copy, never installed.
    builtin, installed = REPO / "maildesk" / "templates", target / "maildesk" / "templates"
    assert sorted(p.relative_to(installed) for p in installed.rglob("*.j2")) == \
        sorted(p.relative_to(builtin) for p in builtin.rglob("*.j2"))
    assert not (target / "templates").exists()
    # Run from elsewhere with only the installed copy of maildesk on the path (its dependencies come
    # from this environment), so nothing can be read from the source tree by accident.
    check = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r});"
                            + CHECK, str(target)], capture_output=True, timeout=120, cwd=tmp_path)
    assert check.returncode == 0, check.stderr.decode()[-2000:]
    assert check.stdout.strip() == b"ok"
