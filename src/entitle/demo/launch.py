"""Start a child process of `entitle demo` that dies with the demo.

``python -m entitle.demo.launch PARENT_PID -- PROGRAM ARGS…`` asks Linux to send the process
SIGTERM when its parent dies (``PR_SET_PDEATHSIG``: the request survives ``exec``), checks that the
parent is still `PARENT_PID` (it may have died before the request), then replaces itself with
``PROGRAM ARGS…``. A demo that is killed outright (SIGKILL, an out-of-memory kill) so leaves no
simulator or web app behind; a demo that is stopped normally stops its children itself.
Elsewhere than Linux the program is simply executed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the parent process ends (Linux only; else nothing)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        sys.stderr.write("usage: python -m entitle.demo.launch PARENT_PID -- PROGRAM [ARGS…]\n")
        raise SystemExit(2)
    parent, program = int(argv[0]), argv[2:]
    die_with_parent()
    if os.getppid() != parent:  # the demo is already gone: do not start at all
        raise SystemExit(1)
    os.execv(program[0], program)  # nosec B606  # our own command, no shell


if __name__ == "__main__":
    main(sys.argv[1:])
