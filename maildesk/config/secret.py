"""Secrets: passwords named by an environment variable, and the desk's own HMAC secret."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from maildesk.config.faults import Faults

if TYPE_CHECKING:
    from maildesk.config.model import Settings


def password_from_env(table: dict[str, Any], key: str, env: Mapping[str, str], faults: Faults) -> None:
    """Replace `password_env` in `table` (the file's `key`) by the `password` it names, if any."""
    name = table.pop("password_env", "")
    if not isinstance(name, str):
        faults.wrong(f"{key}.password_env", name, "a string")
    elif name and name not in env:
        faults.add(f"{key}.password_env names ${name}, which is not set")
    elif name:
        table["password"] = env[name]


def resolve_secret(settings: Settings) -> str:
    """The HMAC secret: the configured one, else one kept in data_dir/secret (made on first use)."""
    if settings.desk.secret:
        return settings.desk.secret
    keyfile = settings.desk.data_dir / "secret"
    if keyfile.exists():
        return keyfile.read_text(encoding="ascii").strip()
    keyfile.parent.mkdir(parents=True, exist_ok=True)
    # Write aside and link into place, so a concurrent first start never reads a half-written key.
    tmp = keyfile.with_name(f"secret.{os.getpid()}.tmp")
    tmp.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
    tmp.chmod(0o600)
    try:
        os.link(tmp, keyfile)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return keyfile.read_text(encoding="ascii").strip()
