"""The Rich consoles of the `entitle` command line, one definition for every command group.

On a terminal, text wraps at the terminal's width as usual. When the output is not a terminal (a
pipe, a file, a test's captured output), printed text is never wrapped: an error message, with
its full path, reads the same whatever the width of the terminal the command was started from.
The same holds for the usage errors Typer reports itself (an unknown option, a bad value): off a
terminal they are plain lines instead of a box as wide as the terminal.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from typer.core import TyperGroup

__all__ = ["CliConsole", "PlainOffTerminalGroup", "cli_console"]


class CliConsole(Console):
    """A console that soft-wraps (does not break lines) whenever its output is not a terminal."""

    _always_soft: bool = False

    @property
    def soft_wrap(self) -> bool:
        """Whether printed text is left unwrapped: always off a terminal, else as configured."""
        return self._always_soft or not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:
        self._always_soft = value


def cli_console(*, stderr: bool = False, highlight: bool = True) -> CliConsole:
    """The console for standard output (or standard error) of a CLI command."""
    return CliConsole(stderr=stderr, highlight=highlight)


class PlainOffTerminalGroup(TyperGroup):
    """The `entitle` command group: usage errors (and its help) as plain, unwrapped text when
    standard error is not a terminal."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if sys.stderr.isatty():
            return super().main(*args, **kwargs)
        rich_mode = self.rich_markup_mode
        self.rich_markup_mode = None  # Typer then lets Click print the error as it is
        try:
            return super().main(*args, **kwargs)
        finally:
            self.rich_markup_mode = rich_mode
