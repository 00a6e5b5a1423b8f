"""The CLI reference in Markdown, generated from the commands themselves so it cannot drift from ``--help``.

``python -m taxsync.cli.reference > docs/cli.md`` rewrites it; a test checks the committed file is current.
"""

from __future__ import annotations

from typing import Any

import typer

from taxsync.cli.main import app


def _option_line(param: Any) -> str:
    argument = param.param_type_name == "argument"
    names = f"`{param.name.upper()}...`" if argument else ", ".join(
        f"`{name}`" for name in [*param.opts, *param.secondary_opts])
    help_text = getattr(param, "help", None) or ""
    default = param.default if not callable(param.default) else None
    if default not in (None, False, ()) and not argument:
        help_text += f" Default: `{default}`."
    envvar = getattr(param, "envvar", None)
    if envvar:
        help_text += f" Environment: `{envvar}`."
    return f"- {names}: {help_text}".rstrip()


def render_reference() -> str:
    group = typer.main.get_group(app)
    lines = ["# taxsync command reference", "",
             "Generated from the commands by `python -m taxsync.cli.reference`; do not edit by hand.", ""]
    lines += _commands(group, "taxsync")
    return "\n".join(lines)


def _commands(group: Any, prefix: str) -> list[str]:
    lines: list[str] = []
    for name, command in group.commands.items():
        lines += [f"## {prefix} {name}", "", (command.help or "").strip(), ""]
        params = [p for p in command.params if p.name != "help"]
        if params:
            lines += [_option_line(p) for p in params] + [""]
        if hasattr(command, "commands"):
            lines += _commands(command, f"{prefix} {name}")
    return lines


if __name__ == "__main__":
    print(render_reference(), end="")
