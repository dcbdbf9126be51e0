"""The what-if streams (issue 16: 25.7 s of a blank page): the page comes before the calculation
starts, each chunk's progress line while the calculation still runs, the result last; a failed
calculation ends the page with the error."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from entitle.decide.campaign.definition import CampaignError
from entitle.decide.campaign.whatif import WhatIfStep
from entitle.web.campaigns.whatif_stream import RESULT_MARK, STEPS_MARK, step_line, stream
from entitle.web.i18n import Translator

PAGE = f"<main><form></form><ol>{STEPS_MARK}</ol>{RESULT_MARK}</main>"


async def _collect(gen: Any) -> list[str]:
    return [part async for part in gen]


def test_the_page_then_each_step_while_it_runs_then_the_result() -> None:
    started, release = threading.Event(), threading.Event()

    def compute(on_step: Any) -> Any:
        started.set()
        on_step(WhatIfStep(1, 2, 1000, 2000, 30, 41))
        assert release.wait(10)
        on_step(WhatIfStep(2, 2, 2000, 2000, 60, 80))
        return "the result"

    async def main() -> list[str]:
        gen = stream(PAGE, Translator("nl"), "leerlingen", compute, lambda r: f"<p>{r}</p>")
        head = await gen.__anext__()
        assert head == "<main><form></form><ol>" and not started.is_set()  # before computing
        first = await gen.__anext__()  # while the calculation waits
        assert "Deel 1 van 2: 1.000 van 2.000 leerlingen beslist" in first
        assert not release.is_set()
        release.set()
        return [head, first, *await _collect(gen)]

    parts = asyncio.run(main())
    assert "Deel 2 van 2" in parts[2]
    assert parts[3:] == ["</ol>", "<p>the result</p>", "</main>"]


def test_a_failed_calculation_ends_the_page_with_the_error() -> None:
    def compute(on_step: Any) -> Any:
        raise CampaignError("dataset school_enrolments unavailable")

    parts = asyncio.run(
        _collect(stream(PAGE, Translator("en"), "pupils", compute, lambda r: "unused"))
    )
    assert parts[0] == "<main><form></form><ol>" and parts[-1] == "</main>"
    assert 'id="whatif-error"' in parts[-2] and "school_enrolments unavailable" in parts[-2]
    assert "unused" not in "".join(parts)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nl", "Deel 3 van 9: 6.000 van 17.500 gezinnen beslist; recht nu 1.200, met de nieuwe"),
        ("en", "Part 3 of 9: 6.000 of 17.500 households decided; eligible now 1.200, with the new"),
    ],
)
def test_a_step_in_words(lang: str, words: str) -> None:
    t = Translator(lang)
    line = step_line(t, t("whatif.noun.households"), WhatIfStep(3, 9, 6000, 17500, 1200, 1350))
    assert line.startswith('<li class="whatif-step">') and words in line


class Chunks:
    """A calculation of `total` chunks that counts those it computed; chunk 2 is still being
    decided until `release` is set (the moment the client leaves)."""

    def __init__(self, total: int = 50) -> None:
        self.total = total
        self.computed: list[int] = []
        self.release, self.ended = threading.Event(), threading.Event()

    def __call__(self, on_step: Any) -> Any:
        try:
            for chunk in range(1, self.total + 1):
                if chunk == 2:
                    assert self.release.wait(30)
                self.computed.append(chunk)
                on_step(WhatIfStep(chunk, self.total, chunk * 100, self.total * 100, 0, 0))
            return "the result"
        finally:
            self.ended.set()


def test_a_what_if_the_client_closed_stops_after_the_chunk_it_was_deciding() -> None:
    chunks = Chunks()

    async def main() -> int:
        gen = stream(PAGE, Translator("nl"), "leerlingen", chunks, lambda r: f"<p>{r}</p>")
        await gen.__anext__()  # the page
        assert "Deel 1 van 50" in await gen.__anext__()
        await gen.aclose()  # the client left: the server closes (or cancels) the body
        return len(chunks.computed)

    at_disconnect = asyncio.run(main())
    chunks.release.set()  # chunk 2, under way when the client left, ends
    assert chunks.ended.wait(30)
    assert at_disconnect == 1
    assert chunks.computed == [1, 2]  # no chunk started after the client left (not 50)


def test_a_what_if_stops_when_the_server_says_the_client_left() -> None:
    chunks = Chunks()
    asked: list[bool] = []

    async def disconnected() -> bool:
        asked.append(True)  # asked only while no chunk came in: the client has left by then
        return True

    async def main() -> list[str]:
        gen = stream(
            PAGE,
            Translator("en"),
            "pupils",
            chunks,
            lambda r: f"<p>{r}</p>",
            disconnected=disconnected,
            poll=0.01,
        )
        return await _collect(gen)

    parts = asyncio.run(main())
    chunks.release.set()
    assert chunks.ended.wait(30)
    assert asked and chunks.computed == [1, 2]
    assert "Part 1 of 50" in parts[1] and "the result" not in "".join(parts)
