"""The web board end to end in headless Chromium: open the page, click a point, see the engine answer.

Debian's ``chromium`` driven by Playwright (no ``playwright install``: the system browser
is launched by path). Skipped only when /usr/bin/chromium is absent
(``bash scripts/install.sh --test`` installs it).
"""

from __future__ import annotations

import os
import re

import pytest

from live_server import live_server
from server.app import create_app
from server.settings import Settings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason=f"{CHROMIUM} not found (apt-get install -y chromium, or scripts/install.sh --test)")


@pytest.fixture(scope="module")
def page_url(tiny_bundle):
    import torch

    torch.set_num_threads(1)
    with live_server(create_app(Settings(weights=str(tiny_bundle), threads=1))) as url:
        yield url


@pytest.fixture()
def page(page_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_url + "/")
            yield page
            assert errors == [], errors  # no JavaScript exceptions along the way
        finally:
            browser.close()


def stones(page, color: str) -> list[str]:
    return page.eval_on_selector_all(f"#board circle.stone.{color}", "els => els.map(e => e.dataset.vertex)")


def wait_idle(page) -> None:
    page.wait_for_selector('#board[data-busy="false"]', timeout=60_000)


def test_clicking_a_point_plays_it_and_the_engine_answers_with_its_analysis(page):
    wait_idle(page)
    page.wait_for_selector('#board rect.hit[data-vertex="E5"]')
    assert stones(page, "black") == [] and stones(page, "white") == []
    page.click('#board rect.hit[data-vertex="E5"]')
    page.wait_for_function("document.querySelectorAll('#board circle.stone.white').length === 1", timeout=60_000)
    wait_idle(page)
    assert stones(page, "black") == ["E5"]
    (white,) = stones(page, "white")
    assert white != "E5"
    assert f"played {white}" in page.inner_text("#status") and "your move" in page.inner_text("#status")
    # The panel: the model's top moves for us, its winrate, and the imagined next frame (a loaded PNG).
    page.wait_for_function("document.getElementById('imagined').complete && "
                           "document.getElementById('imagined').naturalWidth >= 64", timeout=60_000)
    assert len(page.query_selector_all("#top tbody tr")) == 8
    after = [c.inner_text() for c in page.query_selector_all("#top tbody tr td:nth-child(4)")]
    assert len(after) == 8 and all(re.fullmatch(r"\d{1,3}\.\d%", a) for a in after), after  # winrate after each move
    assert "Winrate for Black" in page.inner_text("#winrate")
    assert page.inner_text("#player").endswith("videoworld")
    assert "Captures: Black 0, White 0" == page.inner_text("#captures")


def test_pass_undo_new_game_and_board_size(page):
    wait_idle(page)
    page.click('#board rect.hit[data-vertex="C3"]')
    page.wait_for_function("document.querySelectorAll('#board circle.stone').length === 2", timeout=60_000)
    wait_idle(page)
    page.click("#undo")  # takes back the engine's answer and our move
    page.wait_for_function("document.querySelectorAll('#board circle.stone').length === 0", timeout=60_000)
    wait_idle(page)
    page.click("#pass")
    page.wait_for_function("document.getElementById('status').textContent.includes('Move 3')", timeout=60_000)
    wait_idle(page)
    page.select_option("#size", "13")  # the model plays 9x9; 13x13 gets the Monte Carlo fallback
    page.wait_for_function("document.getElementById('board').dataset.size === '13'", timeout=60_000)
    wait_idle(page)
    assert page.inner_text("#player").endswith("montecarlo")
    page.click('#board rect.hit[data-vertex="G7"]')
    page.wait_for_function("document.querySelectorAll('#board circle.stone.white').length === 1", timeout=60_000)
    wait_idle(page)
    page.click('#board rect.hit[data-vertex="G7"]')  # occupied: the server's reason is shown
    page.wait_for_function("document.getElementById('error').textContent.includes('occupied')", timeout=60_000)
    page.click("#new")
    page.wait_for_function("document.querySelectorAll('#board circle.stone').length === 0", timeout=60_000)


def test_the_territory_box_draws_the_ownership_map_and_clears_it(page):
    wait_idle(page)
    page.click('#board rect.hit[data-vertex="E5"]')
    page.wait_for_function("document.querySelectorAll('#board circle.stone.white').length === 1", timeout=60_000)
    wait_idle(page)
    assert page.query_selector_all("#board rect.own") == []  # off by default
    page.check("#territory")
    page.wait_for_function("document.querySelectorAll('#board rect.own').length > 0", timeout=60_000)
    wait_idle(page)
    own = page.eval_on_selector_all("#board rect.own", "els => els.map(e => [e.dataset.vertex, +e.dataset.own])")
    (white,) = stones(page, "white")
    marked = {v for v, _ in own}
    # every point has a square but the two stones, which their owners keep (+-1 in the map)
    assert len(own) == 79 and "E5" not in marked and white not in marked
    assert all(-1 <= x <= 1 for _, x in own)
    page.uncheck("#territory")
    page.wait_for_function("document.querySelectorAll('#board rect.own').length === 0", timeout=60_000)
