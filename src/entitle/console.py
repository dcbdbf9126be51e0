"""The Rich consoles of the `entitle` command line, one definition for every command group.

On a terminal, text wraps at the terminal's width as usual. When the output is not a terminal (a
pipe, a file, a test's captured output), printed text is never wrapped: an error message, with
its full path, reads the same whatever the width of the terminal the command was started from.
"""

from __future__ import annotations

from rich.console import Console

__all__ = ["CliConsole", "cli_console"]


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
