"""The rendered book as a reader sees it: every chapter page of ``_build/html`` in headless Chromium.

Runs after the book is built (``make test`` runs it as its ``browser`` step, after ``book-check``);
skips, saying why, when the book is not built or Chromium is not installed. The pages are served
from loopback; every request elsewhere is blocked, so the test needs no network and proves the
book needs none to render (MathJax is served with the book).

Per chapter: the title, at least one rendered figure, all math rendered by MathJax without errors,
the Colab launch button and badge opening this notebook on the repository and branch of
``_config.yml``, every exercise and its collapsed solution (which opens on a click), no broken
internal link, no JavaScript error. Screenshots go to ``_build/screenshots/``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin
from urllib.request import urlopen

import nbformat
import pytest

from metalearn_lite.course.config import COLAB_BADGE_IMAGE, BookConfig
from metalearn_lite.course.conventions import toc_files
from metalearn_lite.course.exercises import parse_exercises

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHAPTERS = [entry for entry in toc_files(ROOT) if entry.startswith("notebooks/")]
# The flags the machines of this project run Chromium with: no sandbox (root in CI), no GPU, and
# none of Chromium's own network traffic (refused here, and noise anywhere).
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def find_chromium() -> str | None:
    """``$CHROMIUM`` when set, else Debian's ``chromium``, else a Chromium-based browser on PATH."""
    if os.environ.get("CHROMIUM"):
        candidates = [os.environ["CHROMIUM"]]
    else:
        names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
        candidates = ["/usr/bin/chromium"] + [shutil.which(n) for n in names]
    return next((c for c in candidates if c and Path(c).is_file() and os.access(c, os.X_OK)), None)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the name http.server uses)
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` on loopback; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site() -> str:
    """The built book served on loopback; its base URL."""
    if not (HTML / "index.html").is_file():
        pytest.skip(f"the book is not built ({HTML / 'index.html'} is missing): run `make book` first")
    with serve(HTML) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(f"Chromium not found ({os.environ.get('CHROMIUM') or 'chromium'}; apt-get install chromium, "
                    "or set CHROMIUM=/path/to/chrome): the rendered book is not tested")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the dev extra has it)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site):
    """A fresh page that may load only the served book; records blocked requests and JS errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.blocked, page.js_errors = [], []

    def only_the_book(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_book)
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    yield page
    context.close()


def open_page(page, site: str, path: str) -> None:
    response = page.goto(urljoin(site, path), wait_until="load")
    assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"
    if page.locator(".math").count():  # wait until MathJax has typeset the whole page
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
        page.evaluate("() => MathJax.startup.promise.then(() => true)")


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name in ("id", "name") and value)


@functools.cache
def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except HTTPError as error:
        return error.code, b""


@functools.cache
def _ids_of(url: str) -> frozenset[str]:
    parser = _Ids()
    parser.feed(_fetch(url)[1].decode("utf-8", errors="replace"))
    return frozenset(parser.ids)


def broken_internal_links(page, site: str) -> list[str]:
    """Links of the open page to the book itself whose target file or anchor does not exist."""
    broken = []
    for href in sorted(set(page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"))):
        if not href.startswith(site):
            continue
        target, fragment = urldefrag(href)
        status, _ = _fetch(target)
        if status != 200:
            broken.append(f"{href} ({'missing page' if target.endswith('.html') else f'HTTP {status}'})")
        elif fragment and fragment not in _ids_of(target):
            broken.append(f"{href} (no element with id {fragment!r})")
    return broken


def test_home_page_renders_and_links(page, site):
    page.goto(urljoin(site, "index.html"))
    page.wait_for_url("**/book/intro.html", timeout=10_000)  # Jupyter Book's root redirects to the root page
    open_page(page, site, "book/intro.html")
    assert "Learning to Learn" in page.title()
    assert page.locator("h1:visible").first.inner_text().startswith("Learning to Learn")
    nav = page.eval_on_selector_all("nav a.reference.internal", "links => links.map(a => a.getAttribute('href'))")
    for chapter in CHAPTERS:
        assert any(h.split("#")[0].endswith(f"{chapter}.html") for h in nav), f"{chapter} is not in the navigation"
    assert broken_internal_links(page, site) == []
    assert page.js_errors == [] and page.blocked == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home.png"))


@pytest.mark.parametrize("page_path", [e for e in toc_files(ROOT) if not e.startswith("notebooks/")])
def test_book_pages_have_no_broken_links(page, site, page_path):
    open_page(page, site, f"{page_path}.html")
    assert page.locator("h1:visible").count() >= 1
    assert broken_internal_links(page, site) == []
    assert page.js_errors == []
    assert set(page.blocked) <= {COLAB_BADGE_IMAGE}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_as_a_reader_sees_it(page, site, chapter):
    notebook = ROOT / f"{chapter}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    config = BookConfig.load(ROOT)
    open_page(page, site, f"{chapter}.html")

    title = nb.cells[0].source.splitlines()[0].removeprefix("# ").strip()
    heading = page.locator("h1:visible").first.evaluate(
        "h => { const c = h.cloneNode(true); c.querySelectorAll('.headerlink').forEach(a => a.remove());"
        " return c.textContent.trim(); }")
    assert heading == title
    assert page.title().startswith(title)

    figures = page.locator(".cell_output img")
    assert figures.count() >= 1, "a chapter shows at least one figure"
    assert figures.evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)"), "a figure did not load"

    math = page.evaluate("""() => ({
        spans: document.querySelectorAll('.math').length,
        rendered: [...document.querySelectorAll('.math')].filter(m => m.querySelector('mjx-container')).length,
        errors: document.querySelectorAll('mjx-merror').length })""")
    assert math["spans"] >= 1 and math["rendered"] == math["spans"], f"math not rendered by MathJax: {math}"
    assert math["errors"] == 0, "MathJax reports TeX errors"

    expected = config.colab_url(notebook)
    launch = page.locator(".article-header-buttons a[href*='colab.research.google.com']")
    assert launch.count() == 1, "the page has a Colab launch button"
    assert launch.get_attribute("href") == expected, "the launch button opens this notebook"
    badges = page.locator("article a[href*='colab.research.google.com']")
    assert [badges.nth(i).get_attribute("href") for i in range(badges.count())] == [expected]

    exercises = parse_exercises(nb)
    labels = page.eval_on_selector_all("div.exercise", "divs => divs.map(d => d.id)")
    assert labels == [e.label for e in exercises]
    solutions = page.locator("div.solution")
    assert solutions.count() == len(exercises)
    for i, exercise in enumerate(exercises):
        solution = solutions.nth(i)
        assert solution.locator(f'a[href="#{exercise.label}"]').count() == 1, f"{exercise.label}'s solution"
        body = solution.locator("section").first
        assert not body.is_visible(), f"the solution of {exercise.label} is collapsed"
        if exercise.solution_cells:
            assert solution.locator(".cell").count() == len(exercise.solution_cells), "code inside the dropdown"
        solution.locator("button.toggle-button").click()
        body.wait_for(state="visible", timeout=5_000)
        if chapter == CHAPTERS[0] and i == 0:  # the first solution opened, the next still collapsed
            page.locator("div.exercise").first.evaluate("e => e.scrollIntoView({block: 'start'})")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "chapter-exercises.png"))

    assert broken_internal_links(page, site) == []
    assert page.js_errors == []
    assert set(page.blocked) <= {COLAB_BADGE_IMAGE}, "the page needs nothing from the network but the badge image"
    if chapter == CHAPTERS[0]:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "chapter.png"))


def test_the_link_check_finds_broken_links_and_anchors(browser, tmp_path):
    (tmp_path / "a.html").write_text(
        '<p id="here">x</p><a href="b.html#there">ok</a><a href="b.html#nowhere">bad anchor</a>'
        '<a href="missing.html">missing</a><a href="img.png">missing file</a><a href="#here">self</a>'
        '<a href="https://example.org/">external</a>'
    )
    (tmp_path / "b.html").write_text('<h1 id="there">b</h1>')
    context = browser.new_context()
    page = context.new_page()
    with serve(tmp_path) as url:
        page.goto(url + "a.html")
        assert broken_internal_links(page, url) == [
            f"{url}b.html#nowhere (no element with id 'nowhere')",
            f"{url}img.png (HTTP 404)",
            f"{url}missing.html (missing page)",
        ]
    context.close()


def test_the_colab_edition_reads_cleanly_in_a_plain_renderer(browser, tmp_path):
    """Chapter 4.2's Colab edition (``make colab``), rendered by nbconvert's plain HTML exporter
    (mistune Markdown, no MyST): no MyST syntax visible, exercises as headings, solutions collapsed
    until clicked, citations author-year, the run's figures shown. Screenshot:
    ``_build/screenshots/colab-edition.png``."""
    edition = ROOT / "_build" / "colab" / "notebooks" / "08_few_shot.ipynb"
    if not edition.is_file():
        pytest.skip(f"{edition} is missing: run `make colab` after `make notebooks`")
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter(template_name="basic").from_notebook_node(nbformat.read(edition, as_version=4))
    (tmp_path / "index.html").write_text(f"<html><head><meta charset='utf-8'></head><body>{html}</body></html>",
                                         encoding="utf-8")
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    try:
        with serve(tmp_path) as url:
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url)
                          else route.abort())
            page.goto(url, wait_until="load")
            text = page.inner_text("body")
            for myst in ("{footcite", "{glue", "{exercise}", "{solution", ":::", ":label:", "{footbibliography}"):
                assert myst not in text, f"{myst!r} is visible in the Colab edition"
            assert "(Snell et al., 2017; Finn et al., 2017)" in text
            headings = page.eval_on_selector_all("h4", "hs => hs.map(h => h.textContent.trim())")
            assert sum(h.startswith("Exercise") for h in headings) == 4, headings
            details = page.locator("details")
            assert details.count() == 3 and not details.first.evaluate("d => d.open"), "solutions start collapsed"
            details.first.locator("summary").click()
            assert details.first.evaluate("d => d.open"), "a click opens a solution"
            figures = page.locator("img[src^='data:']")  # the outputs' figures (the badge's image is remote)
            assert figures.count() >= 3, "the edition carries the run's figures"
            assert figures.evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.locator("h2", has_text="4.2.7").scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "colab-edition.png"))
    finally:
        context.close()


_WIDE_LINES = """() => { let total = 0, wide = 0;
  for (const pre of document.querySelectorAll('div.cell_input pre, div.highlight pre')) {
    const style = getComputedStyle(pre), ctx = document.createElement('canvas').getContext('2d');
    ctx.font = style.font;
    const char = ctx.measureText('x'.repeat(100)).width / 100;
    const room = pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    for (const line of pre.textContent.split('\\n')) {
      if (line.length) { total++; if (line.length * char > room + 1) wide++; }
    }
  }
  const tables = [...document.querySelectorAll('article table')]
    .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1);
  return {total, wide, tables: tables.length}; }"""


@pytest.mark.parametrize(("width", "most_wide"), [(1280, 0.03), (1440, 0.03), (1920, 0.01)])
def test_code_and_tables_fit_the_content_column(browser, site, width, most_wide):
    """``_static/wide-code.css``: on a laptop's or a wide screen, code lines (up to 120 characters) and
    tables fit their column instead of scrolling sideways. Saves ``wide-page-<width>.png``."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        total = wide = 0
        for chapter in CHAPTERS:
            open_page(page, site, chapter + ".html")
            counts = page.evaluate(_WIDE_LINES)
            total, wide = total + counts["total"], wide + counts["wide"]
            assert counts["tables"] == 0, f"{chapter}: a table is wider than the column at {width} px"
        assert wide <= most_wide * total, f"{wide} of {total} code lines are wider than their block at {width} px"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        open_page(page, site, "notebooks/08_few_shot.html")
        page.locator("h2", has_text="4.2.4").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"wide-page-{width}.png"))
    finally:
        context.close()


def test_between_1200_and_1536_px_the_page_contents_open_from_the_header(browser, site):
    """``_static/wide-code.css`` gives the right-hand column to the code at laptop widths; the page's
    contents stay one click away, in the theme's own dialog."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        open_page(page, site, "notebooks/08_few_shot.html")
        assert not page.locator("#pst-secondary-sidebar").is_visible(), "the right-hand column is given to the text"
        page.locator("button.secondary-toggle").first.click()
        contents = page.locator("#pst-secondary-sidebar-modal")
        contents.locator("a", has_text="4.2.4 One table").wait_for(state="visible")
        assert contents.evaluate("d => d.open"), "the button opens the page's contents"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "page-contents-1280.png"))
    finally:
        context.close()
