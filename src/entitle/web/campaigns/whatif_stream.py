"""The what-if page as a stream: the page at once, a line per chunk as the target is decided
(how many decided, how many eligible now and with the new values), then the result.

A what-if decides the whole target twice (half a minute for the city's pupils): instead of a
page that stays blank until then, the browser shows the form and the progress while the
calculation runs in a thread, and the result when it is done. Nothing is stored or sent.

A what-if the manager leaves (the tab closed, another page opened) stops: once the client is
gone — the body closed or cancelled by the server, or `disconnected()` says so while waiting
for the next chunk — the calculation ends after the chunk it is deciding (`Abandoned`, raised
from its progress callback between chunks) instead of deciding the whole target for nobody.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool
from markupsafe import escape

from entitle.decide.campaign import CampaignError, CampaignStateError
from entitle.decide.campaign.whatif import WhatIf, WhatIfStep
from entitle.web.i18n import Translator

log = logging.getLogger(__name__)

STEPS_MARK = "<!--whatif-steps-->"  # where the page's list of steps takes its lines
RESULT_MARK = "<!--whatif-result-->"  # where the result goes once it is there
POLL_SECONDS = 1.0  # while a chunk is decided, how often to look whether the client left


class Abandoned(Exception):
    """The client left: raised between chunks to stop the calculation."""


def page_parts(page: str) -> tuple[str, str, str]:
    """The rendered streaming page cut at its marks: up to the steps, up to the result, the
    rest."""
    head, _, rest = page.partition(STEPS_MARK)
    middle, _, tail = rest.partition(RESULT_MARK)
    return head, middle, tail


def step_line(t: Translator, noun: str, step: WhatIfStep) -> str:
    """One line of progress, as the list item the page shows."""
    text = t(
        "whatif.step",
        chunk=t.number(step.chunk),
        chunks=t.number(step.chunks),
        decided=t.number(step.decided),
        subjects=t.number(step.subjects),
        noun=noun,
        baseline=t.number(step.baseline_eligible),
        variant=t.number(step.variant_eligible),
    )
    return f'<li class="whatif-step">{escape(text)}</li>\n'


async def stream(
    page: str,
    t: Translator,
    noun: str,
    compute: Callable[[Callable[[WhatIfStep], None]], WhatIf],
    finish: Callable[[WhatIf], str],
    disconnected: Callable[[], Awaitable[bool]] | None = None,
    poll: float = POLL_SECONDS,
) -> AsyncIterator[str]:
    """The page, a line per step while `compute` runs in a thread, then `finish(result)` (the
    result's HTML; it may audit) — or the error when the calculation fails. `compute` calls
    its callback after each chunk; once the client left (this generator closed, or
    `disconnected()` true while waiting), the callback raises `Abandoned` and nothing more is
    decided."""
    head, middle, tail = page_parts(page)
    yield head
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    gone = threading.Event()

    def on_step(step: WhatIfStep) -> None:
        if gone.is_set():
            raise Abandoned
        events.put(("step", step))

    def work() -> None:
        try:
            events.put(("done", compute(on_step)))
        except Abandoned:
            log.info("what-if abandoned by the client: stopped between chunks")
        except (CampaignError, CampaignStateError, OSError, ValueError) as exc:
            events.put(("error", exc))
        except Exception as exc:
            log.exception("what-if failed")
            events.put(("error", exc))

    threading.Thread(target=work, name="what-if", daemon=True).start()
    try:
        while True:
            try:
                kind, value = await run_in_threadpool(events.get, True, poll)
            except queue.Empty:
                if disconnected is not None and await disconnected():
                    return
                continue
            if kind == "step":
                yield step_line(t, noun, value)
                continue
            yield middle
            if kind == "done":
                yield await run_in_threadpool(finish, value)
            else:
                log.warning("what-if failed: %s", value)
                why = escape(t("whatif.failed", why=str(value)))
                yield f'<p class="error" role="alert" id="whatif-error">{why}</p>\n'
            yield tail
            return
    finally:  # done, failed, or the client left (closed or cancelled here): stop computing
        gone.set()
