"""`maildesk completion bash|zsh|fish`: print the shell's completion script (click's own), to be
sourced from the shell's start-up file (README, "Shell completion")."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

#: The variable the script sets when it asks `maildesk` for completions (click's convention).
COMPLETE_VAR = "_MAILDESK_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
#: The installed command, whatever name this process was started by (`python -m maildesk`, say).
PROG = "maildesk"


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL. Load it with
    `eval "$(maildesk completion bash)"` in ~/.bashrc (zsh: ~/.zshrc), or for fish
    `maildesk completion fish > ~/.config/fish/completions/maildesk.fish`."""
    root = ctx.find_root()
    kind = get_completion_class(shell)
    assert kind is not None  # every name in SHELLS is one click knows
    script = kind(root.command, {}, PROG, COMPLETE_VAR).source()
    click.echo(script, nl=not script.endswith("\n"))
