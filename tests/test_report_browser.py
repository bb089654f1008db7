"""The report in a real headless Chromium (Debian's `chromium` package, installed by .ci/run):
opened from file://, it raises no console error, makes no network request, shows the checklist
and a plan tree, its filters work, it fits a phone's width, and injected markup stays inert.

Screenshots land in the test's tmp folder (light, dark, phone) for a human to look at.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pgpreflight.linter.report import html

from tests.cdp import Browser, find_chromium
from tests.report_support import checked_result, lint_folder, write
from tests.test_report_html import EVIL

CHROMIUM = find_chromium()
if CHROMIUM is None:  # a missing browser is a broken environment, not a reason to pass
    pytest.fail(
        "chromium not found: install Debian's 'chromium' package (.ci/run does)", pytrace=False
    )

VISIBLE = """(sel) => { const el = document.querySelector(sel); if (!el) return false;
  el.scrollIntoView(); const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; }"""


def visible(b: Browser, selector: str) -> bool:
    return bool(b.evaluate(f"({VISIBLE})({json.dumps(selector)})"))


def test_checked_report_in_chromium(pg_server: object, tmp_path: Path) -> None:
    result = checked_result(pg_server, tmp_path)
    assert result.check and result.check["migrations"], (
        "the check must have traced the pending migration"
    )
    page = tmp_path / "report.html"
    page.write_text(html.render(result), encoding="utf-8")
    with Browser(CHROMIUM) as b:
        b.viewport(1280, 900)
        b.navigate(page.as_uri())
        b.screenshot(tmp_path / "report-light.png")
        assert b.console_errors() == []
        assert b.requests() == [page.as_uri()]
        assert visible(b, "[data-checklist]")
        assert b.evaluate("document.querySelectorAll('[data-checklist] > li').length") == 5
        assert (
            b.evaluate("document.querySelector('#item-migrations-apply').dataset.status")
            == "passed"
        )
        assert visible(b, "[data-plan] .nt")
        assert b.evaluate(
            "[...document.querySelectorAll('[data-plan] .nt')].some(e => /Index|Bitmap/.test(e.textContent))"
        )
        assert visible(b, "svg.timeline rect")
        # filters: hiding warnings and infos leaves only errors, and the count says so
        total = b.evaluate("document.querySelectorAll('[data-finding][data-count]').length")
        errors = b.evaluate(
            "document.querySelectorAll('[data-finding][data-severity=error]').length"
        )
        assert total > errors
        b.evaluate(
            "document.querySelectorAll('#filters input[data-sev=warning], #filters input[data-sev=info]')"
            ".forEach(c => { c.checked = false; c.dispatchEvent(new Event('change')); })"
        )
        shown = b.evaluate(
            "[...document.querySelectorAll('[data-finding][data-count]')].filter(e => !e.hidden).length"
        )
        assert shown == errors
        assert b.evaluate("document.getElementById('f-count').textContent").startswith(
            f"{errors} finding"
        )
        b.color_scheme("dark")
        b.evaluate(
            "document.querySelectorAll('#filters input[data-sev]').forEach(c => { c.checked = true; c.dispatchEvent(new Event('change')); })"
        )
        b.screenshot(tmp_path / "report-dark.png", full_page=False)
        bg = b.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg == "rgb(13, 17, 23)", bg
        b.color_scheme("light")
        b.viewport(390, 844, mobile=True, scale=2)
        b.navigate(page.as_uri())
        b.screenshot(tmp_path / "report-phone.png", full_page=False)
        assert b.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert b.console_errors() == []
        assert all(u == page.as_uri() for u in b.requests())
    for name in ("report-light.png", "report-dark.png", "report-phone.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_injected_markup_stays_text_in_chromium(tmp_path: Path) -> None:
    result = lint_folder(write(tmp_path / "m", {"202401010000__evil.sql": EVIL}))
    page = tmp_path / "evil.html"
    page.write_text(html.render(result), encoding="utf-8")
    with Browser(CHROMIUM) as b:
        b.send(
            "Page.addScriptToEvaluateOnNewDocument",
            {
                "source": "window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));"
            },
        )
        b.navigate(page.as_uri())
        assert b.evaluate("window.__alerts.length") == 0
        assert b.evaluate("document.querySelectorAll('img').length") == 0
        assert b.evaluate("document.querySelectorAll('script').length") == 1
        assert b.evaluate(
            "document.body.textContent.includes('</script><script>alert(1)</script>')"
        )
        assert not [e for e in b.events if e["method"] == "Page.javascriptDialogOpening"]
        assert b.console_errors() == []


# Every card, section and EXPLAIN box: its content fits its width (a wide table or listing must
# scroll inside its own box, which must itself sit within the card); the lock tables need no
# scrolling at all (`locks_fit`). Every visible piece of text is at least 10 px as drawn: CSS
# font size for HTML, the rendered glyph box for SVG text (a viewBox scaled down shrinks it).
LAYOUT = r"""(() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '');
  const overflow = [];
  const boxes = document.querySelectorAll('body, .wrap, section, .card, .explain, .src, .verdict, dl.meta, .filters');
  for (const el of boxes) {
    if (el.scrollWidth > el.clientWidth + 1) overflow.push([name(el), el.scrollWidth, el.clientWidth]);
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    overflow.push(['html', document.documentElement.scrollWidth, window.innerWidth]);
  for (const sc of document.querySelectorAll('.tablewrap, .scroll, pre, .tlwrap')) {
    const card = sc.parentElement.closest('.card, .explain, section');
    const r = sc.getBoundingClientRect(), c = card.getBoundingClientRect();
    if (r.right > c.right + 1 || r.left < c.left - 1) overflow.push(['outside ' + name(card), name(sc), r.right, c.right]);
  }
  const locks = [...document.querySelectorAll('table.locks')].map(t => {
    const w = t.closest('.tablewrap'); return [w.scrollWidth, w.clientWidth]; });
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const t = walker.currentNode;
    if (!t.textContent.trim()) continue;
    const el = t.parentElement;
    if (el.closest('title, script, style, .skip, [hidden]')) continue;
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden') continue;
    const range = document.createRange(); range.selectNodeContents(t);
    const r = range.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const size = el instanceof SVGElement ? r.height : parseFloat(s.fontSize);
    if (size < 10) small.push([name(el), t.textContent.trim().slice(0, 40), size]);
  }
  return {overflow, locks, small, timelines: document.querySelectorAll('svg.timeline text').length};
})()"""


@pytest.mark.parametrize("width", [400, 1400, 1920])
def test_every_card_fits_and_text_is_readable(
    pg_server: object, tmp_path: Path, width: int
) -> None:
    """Issue 16: the lock table overflowed its card at 1400 and 1920 px (its last column,
    "static vs real", clipped), at 400 px the lock columns were off screen and the timeline's
    labels were drawn about 5 px tall."""
    result = checked_result(pg_server, tmp_path)
    page = tmp_path / "report.html"
    page.write_text(html.render(result), encoding="utf-8")
    with Browser(CHROMIUM) as b:
        b.viewport(width, 900, mobile=width < 600, scale=1)
        b.navigate(page.as_uri())
        got = b.evaluate(LAYOUT)
        b.evaluate("document.querySelector('table.locks').scrollIntoView()")
        b.screenshot(tmp_path / f"layout-{width}.png", full_page=False)
        assert b.console_errors() == []
    assert got["overflow"] == [], got["overflow"]
    assert got["locks"], "the checked migration has a lock table"
    assert all(scroll <= client + 1 for scroll, client in got["locks"]), got["locks"]
    assert got["timelines"] > 0
    assert got["small"] == [], got["small"]
