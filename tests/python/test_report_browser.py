"""The report in a real browser: headless Chromium, with every network request made to fail.

How it works, with no extra Python package:
- Chromium runs with ``--proxy-server=127.0.0.1:9`` (a dead port, loopback bypass removed), so
  any request the page made would fail instead of reaching a network.
- ``--dump-dom`` after a virtual-time budget gives the DOM after the scripts ran. Each
  ``div.chart`` must contain a drawn ``<svg>`` with marks, and ``div#resource-check`` (kept
  up to date by the page itself from ``performance.getEntriesByType('resource')``, resource
  ``error`` events, script errors and CSP violations) must say: done, 0 resources loaded,
  0 errors, every chart rendered.
- ``--screenshot`` gives a PNG; it is decoded with zlib and must not be one flat colour.
- Chromium's own log (``--enable-logging=stderr``) must not report a failed load.

The test is skipped when Chromium is missing, except under CI (env ``CI`` set), where it fails.
"""

from __future__ import annotations

import html.parser
import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_report import build_fake_warehouse

from segmentation import report
from segmentation.report_assets import RESOURCE_CHECK_JS

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=15000",
]


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    env = os.environ.get("CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install -y chromium); required in CI")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return path


def run_chromium(
    chromium: str, url: str, work: Path, *extra: str, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once on ``url`` with a fresh profile in ``work``."""
    profile = work / f"profile-{len(list(work.glob('profile-*')))}"
    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url]
    env = {**os.environ, "HOME": str(work)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc


def dump_dom(
    chromium: str, page: Path, work: Path, query: str = "", *extra: str
) -> tuple[str, str]:
    """The DOM of ``page`` after its scripts ran, and Chromium's log."""
    proc = run_chromium(chromium, page.as_uri() + query, work, *extra, "--dump-dom")
    return proc.stdout, proc.stderr


@dataclass
class Node:
    """A parsed element: tag, attributes, children and text."""

    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def iter(self):
        yield self
        for child in self.children:
            yield from child.iter()

    def find_id(self, element_id: str) -> Node | None:
        return next((n for n in self.iter() if n.attrs.get("id") == element_id), None)

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)


VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "source", "wbr"}


class TreeBuilder(html.parser.HTMLParser):
    """A forgiving DOM builder for Chromium's serialised DOM (stdlib only)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.stack[-1].text += data


def parse(dom: str) -> Node:
    builder = TreeBuilder()
    builder.feed(dom)
    return builder.root


def png_stats(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values of the decoded PNG scanlines.

    A single-colour image has at most a handful of distinct values whatever PNG filter the
    encoder chose (the residuals are all zero after the first pixel); a real page has many.
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, width, height, idat = 8, 0, 0, bytearray()
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(bytes(idat))
    return width, height, len(set(raw))


def test_png_stats_tells_blank_from_busy(tmp_path: Path) -> None:
    """The screenshot check itself: a flat image has few byte values, a noisy one many."""

    def png(width: int, height: int, pixel_row: bytes) -> bytes:
        def chunk(kind: bytes, body: bytes) -> bytes:
            crc = zlib.crc32(kind + body) & 0xFFFFFFFF
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

        rows = b"".join(b"\x00" + pixel_row for _ in range(height))
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b"")
        )

    flat = tmp_path / "flat.png"
    flat.write_bytes(png(64, 8, bytes([244, 245, 247]) * 64))
    busy = tmp_path / "busy.png"
    busy.write_bytes(png(64, 8, bytes(range(192))))
    assert png_stats(flat) == (64, 8, 4)
    assert png_stats(busy)[2] > 100


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, chromium: str):
    work = tmp_path_factory.mktemp("browser")
    db = work / "warehouse.duckdb"
    build_fake_warehouse(db, customers=400)
    out = work / "report.html"
    report.write_report(db, out)
    dom, log = dump_dom(chromium, out, work)
    return work, out, dom, log


def test_every_chart_rendered(rendered) -> None:
    _, out, dom, _ = rendered
    tree = parse(dom)
    charts = [n for n in tree.iter() if "chart" in n.attrs.get("class", "").split()]
    assert len(charts) >= 13
    for chart in charts:
        svgs = [n for n in chart.iter() if n.tag == "svg"]
        assert svgs, f"chart {chart.attrs.get('id')} has no <svg>: not rendered"
        marks = [n for n in chart.iter() if n.tag in {"path", "rect", "line", "text"}]
        assert len(marks) > 5, f"chart {chart.attrs.get('id')} is empty"
    for section_id in report.SECTION_IDS:
        section = tree.find_id(section_id)
        assert section is not None and section.tag == "section", section_id
        assert "Not available" not in section.all_text(), section_id


def test_no_request_and_no_error(rendered) -> None:
    _, _, dom, log = rendered
    check = parse(dom).find_id("resource-check")
    assert check is not None
    attrs = check.attrs
    detail = check.all_text()
    assert attrs["data-status"] == "done", detail
    assert attrs["data-external"] == "0", detail
    assert attrs["data-errors"] == "0", detail
    assert attrs["data-charts-failed"] == "0", detail
    assert attrs["data-charts-rendered"] == attrs["data-charts-expected"], detail
    assert int(attrs["data-charts-expected"]) >= 13
    for line in log.splitlines():
        assert "Failed to load resource" not in line, line
        assert "net::ERR_" not in line or "report.html" not in line, line
        assert "Content Security Policy" not in line, line


def test_drilldown_shows_profile_and_hashed_top_customers(rendered, chromium: str) -> None:
    work, out, dom, _ = rendered
    tree = parse(dom)
    profile = tree.find_id("segment-profile")
    assert profile is not None and "0 · Loyal big spenders" in profile.all_text()
    assert tree.find_id("segment-characteristics") is not None
    action = tree.find_id("segment-action")
    assert action is not None and "What to do: Contact Loyal big spenders" in action.all_text()
    assert "Stands out on: region: north" in tree.find_id("segment-top-attributes").all_text()
    customers = tree.find_id("segment-top-customers")
    cells = [
        n.all_text()
        for n in customers.iter()
        if n.tag == "td" and "hash" in n.attrs.get("class", "")
    ]
    assert len(cells) == report.TOP_CUSTOMERS
    assert all(len(c) == 32 and all(ch in "0123456789abcdef" for ch in c) for c in cells)
    # Choosing another segment (via the deep link the select box also drives).
    dom2, _ = dump_dom(chromium, out, work, query="?segment=2")
    tree2 = parse(dom2)
    text = tree2.find_id("segment-profile").all_text()
    assert "2 · Serial returners" in text and "returns a lot" in text
    assert "CUST-" not in dom2


def test_screenshot_is_not_blank(rendered, chromium: str) -> None:
    work, out, _, _ = rendered
    shot = work / "report.png"
    run_chromium(chromium, out.as_uri(), work, "--window-size=1400,4200", f"--screenshot={shot}")
    width, height, distinct = png_stats(shot)
    assert (width, height) == (1400, 4200)
    assert distinct > 64, f"screenshot looks blank ({distinct} distinct byte values)"


@pytest.fixture(scope="module")
def ten_segments(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A report of a model with the most segments the default k range allows."""
    work = tmp_path_factory.mktemp("browser10")
    db = work / "warehouse.duckdb"
    build_fake_warehouse(db, segments=10, customers=600)
    out = work / "report.html"
    report.write_report(db, out)
    return work, out


@pytest.mark.parametrize("segments", [4, 10])
@pytest.mark.parametrize("width", [1280, 1920])
def test_readable_at_a_laptop_and_a_desktop_width(
    rendered, ten_segments, chromium: str, width: int, segments: int
) -> None:
    """At 1280 and 1920 px no table or chart scrolls sideways or sticks out of its section
    (the page measures itself once the charts are drawn), with 4 segments and with 10, and
    a screenshot is taken."""
    work, out = (rendered[0], rendered[1]) if segments == 4 else ten_segments
    dom, _ = dump_dom(chromium, out, work, "", f"--window-size={width},1200")
    check = parse(dom).find_id("resource-check")
    assert check.attrs["data-status"] == "done"
    assert check.attrs["data-width"] == str(width)
    assert check.attrs["data-overflow"] == "0", check.all_text()
    shot = work / f"report-{segments}-{width}.png"
    run_chromium(
        chromium, out.as_uri(), work, f"--window-size={width},3000", f"--screenshot={shot}"
    )
    assert png_stats(shot)[:2] == (width, 3000)


def test_overflow_check_catches_a_table_too_wide(tmp_path: Path, chromium: str) -> None:
    """Negative control: a table wider than its section is counted."""
    page = tmp_path / "wide.html"
    cells = "".join(f"<td>column number {i} with a long header</td>" for i in range(40))
    page.write_text(
        "<!DOCTYPE html><html><head><script>" + RESOURCE_CHECK_JS + "</script></head><body>"
        f'<section id="s" style="width:600px"><table class="data"><tr>{cells}</tr></table>'
        '</section><div id="resource-check" data-status="pending"></div>'
        "<script>window.addEventListener('load', function () {"
        " window.__reportFinish(0, 0); });</script></body></html>",
        encoding="utf-8",
    )
    dom, _ = dump_dom(chromium, page, tmp_path, "", "--window-size=1280,800")
    check = parse(dom).find_id("resource-check")
    assert int(check.attrs["data-overflow"]) >= 1
    assert "s table sticks out of its section" in check.all_text()


def test_resource_check_catches_a_remote_request(tmp_path: Path, chromium: str) -> None:
    """Negative control: the page's own check does count a request it could not make."""
    page = tmp_path / "remote.html"
    page.write_text(
        "<!DOCTYPE html><html><head><script>" + RESOURCE_CHECK_JS + "</script></head><body>"
        '<img src="http://report-test.invalid/pixel.png">'
        '<div id="resource-check" data-status="pending"></div>'
        "<script>window.addEventListener('load', function () {"
        " window.__reportFinish(0, 0); });</script></body></html>",
        encoding="utf-8",
    )
    dom, _ = dump_dom(chromium, page, tmp_path)
    attrs = parse(dom).find_id("resource-check").attrs
    assert attrs["data-status"] == "done"
    assert int(attrs["data-errors"]) >= 1
    assert int(attrs["data-external"]) >= 1
