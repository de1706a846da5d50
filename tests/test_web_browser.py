"""`evidencekit serve` end to end in a real browser: headless Debian Chromium driven by Playwright.

The real server (``python -m evidencekit serve --no-browser --port 0``) in a temporary workspace;
the shopper's whole flow through its pages: create a case, drop files on a kind (a real drop
event carrying a DataTransfer built in the page) and pick one with the file input, fill the case
facts, draw a redaction with the mouse, build, download the PDF, and check the PDF (it opens, has
the exhibits and the originals, the redacted display copy is black where the rectangle was,
``evidencekit verify`` passes, and it is byte for byte the CLI's ``build --reproducible``).

Skipped when Playwright (extra ``[browser]``) or /usr/bin/chromium is missing, unless
EVIDENCEKIT_REQUIRE_BROWSER=1 (set by .ci/run), which turns the skip into a failure. Playwright
never downloads a browser here: it is pointed at the system's Chromium. With
EVIDENCEKIT_SCREENSHOTS=<folder> the evidence and build pages are saved there as PNG.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from click.testing import CliRunner
from PIL import Image

from evidencekit.case.load import load_case
from evidencekit.cli import main

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CASE = "张三-抖音-手提包"
# The chat screenshot the redaction is drawn on: larger than the exhibit box, so its display copy
# (and the canvas over it) is smaller than the original and the page must convert coordinates.
CHAT_SIZE = (1600, 2000)
CHAT = "article.exhibit[data-file='evidence/chat/客服聊天.png']"


def _missing() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "没有安装 Playwright（pip install -e \".[browser]\"） / Playwright is not installed"
    if not CHROMIUM.exists():
        return "没有 /usr/bin/chromium（apt-get install chromium） / Debian's chromium is not installed"
    return ""


if _missing():
    if os.environ.get("EVIDENCEKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"EVIDENCEKIT_REQUIRE_BROWSER=1: {_missing()}", pytrace=False)
    pytest.skip(_missing(), allow_module_level=True)

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright  # noqa: E402

# Two cores shared with other work: an upload's assessment or a page may take seconds, not milliseconds.
TIMEOUT_MS = 90_000
expect.set_options(timeout=TIMEOUT_MS)


def png(size: tuple[int, int], color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The real `serve` in a subprocess: (the printed address with its token, the workspace)."""
    workspace = tmp_path_factory.mktemp("workspace")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "EVIDENCEKIT_CACHE_DIR": str(workspace.parent / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "evidencekit", "serve", str(workspace), "--no-browser",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    address = ""
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline and not address:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line)
        address = match.group(0) if match else ""
    if not address:
        proc.kill()
        pytest.fail("serve printed no address:\n" + "".join(lines))
    try:
        yield address, workspace
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, accept_downloads=True, viewport={"width": 1360, "height": 1000}, locale="zh-CN",
            permissions=["clipboard-read", "clipboard-write"])
        try:
            yield context
        finally:
            context.close()


def drop_files(page: Page, kind: str, files: list[tuple[str, bytes, str, int]]) -> None:
    """A real drop event on the kind's drop zone, its DataTransfer built in the page from bytes."""
    payload = [{"name": n, "b64": base64.b64encode(b).decode(), "type": t, "mtime": m} for n, b, t, m in files]
    page.evaluate("""({kind, files}) => {
        const dt = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
            dt.items.add(new File([bytes], f.name, {type: f.type, lastModified: f.mtime}));
        }
        const zone = document.querySelector(`.dropzone[data-kind="${kind}"]`);
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", {"kind": kind, "files": payload})


def draw_rect(page: Page, selector: str, x0: float, y0: float, x1: float, y1: float) -> dict[str, float]:
    """Drag the mouse over the canvas from (x0, y0) to (x1, y1), given as fractions of its size."""
    canvas = page.locator(selector).first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * x0, box["y"] + box["height"] * y0)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * x1, box["y"] + box["height"] * y1, steps=8)
    page.mouse.up()
    return box


def shot(page: Page, name: str, around: str = "") -> None:
    """The page as PNG into $EVIDENCEKIT_SCREENSHOTS: the whole page, or the window scrolled to
    ``around`` (the sticky self-check panel stays in view beside it)."""
    folder = os.environ.get("EVIDENCEKIT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        if around:
            page.locator(around).evaluate("e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 60)")
        else:
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(folder) / name), full_page=not around)


def test_the_whole_flow_in_chromium(server: tuple[str, Path], browser: BrowserContext, tmp_path: Path) -> None:
    address, workspace = server
    base = address.split("/?")[0]
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    # The printed address sets the cookie and drops the token from the address bar.
    page.goto(address)
    assert "token=" not in page.url

    # 1. Create a case (the new-case form).
    page.goto(base + "/new")
    page.fill("input[name=case_name]", CASE)
    page.click("#create-case")
    page.wait_for_url(re.compile(r"/case/.+/facts$"))
    root = workspace / CASE
    assert (root / "case.yaml").is_file()

    # 2. Fill the case facts (inputs named by dotted case.yaml key).
    page.select_option("select[name='problem.type']", "not_as_shown")
    page.fill("[name='problem.summary']", "收到的包是人造革，与直播间宣称的头层牛皮不符")
    page.fill("[name='order.amount']", "399")
    page.fill("[name='order.number']", "6912345678901234567")
    page.click("#save-facts")
    expect(page.locator("#saved")).to_be_visible()
    case = load_case(root)
    assert case.problem.type == "not_as_shown" and case.order.amount == 399

    # 3. Drop files on a kind, and pick one with the file input.
    page.goto(f"{base}/case/{CASE}/evidence")
    order = png((600, 900), "#264653")
    drop_files(page, "order", [("订单详情.png", order, "image/png", 1731582012000),
                               ("付款.png", png((600, 700), "#2a9d8f"), "image/png", 1731582100000)])
    result = page.locator("#upload-result[data-state=done]")
    expect(result).to_contain_text("订单详情.png")
    expect(result).to_contain_text(hashlib.sha256(order).hexdigest())
    expect(result).to_contain_text("2024-11-14 19:00:12")
    chat = png(CHAT_SIZE, "#e76f51")
    page.set_input_files(".file-input[data-kind=chat]", files=[
        {"name": "客服聊天.png", "mimeType": "image/png", "buffer": chat}])
    expect(page.locator("#upload-result[data-state=done]")).to_contain_text("客服聊天.png")
    assert (root / "evidence/order/订单详情.png").read_bytes() == order
    assert (root / "evidence/chat/客服聊天.png").read_bytes() == chat

    # 4. Draw a redaction with the mouse on the chat screenshot: its top-left quarter.
    expect(page.locator(f"{CHAT} canvas.redact-canvas").first).to_be_visible()
    count = page.locator(f"{CHAT} .redact-count b")
    draw_rect(page, f"{CHAT} canvas.redact-canvas", 0.002, 0.002, 0.5, 0.5)
    expect(count).to_have_text("1")
    # A second rectangle (bottom right), then a click inside it removes it again.
    box = draw_rect(page, f"{CHAT} canvas.redact-canvas", 0.7, 0.7, 0.9, 0.9)
    expect(count).to_have_text("2")
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.8)
    expect(count).to_have_text("1")
    override = load_case(root).override_for("evidence/chat/客服聊天.png")
    assert override is not None and len(override.redact) == 1
    x, y, w, h = override.redact[0]
    assert x < 10 and y < 10 and abs(w - CHAT_SIZE[0] / 2) < 30 and abs(h - CHAT_SIZE[1] / 2) < 30, (x, y, w, h)
    # The preview the page shows now is the blacked-out display copy.
    preview = page.locator(f"{CHAT} img").first
    expect(preview).to_have_js_property("complete", True)
    # What the page shows (read back from the <img> itself, not fetched again).
    pixels = preview.evaluate("""img => {
        const c = document.createElement("canvas");
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext("2d");
        g.drawImage(img, 0, 0);
        const at = (fx, fy) => Array.from(g.getImageData(Math.floor(c.width * fx), Math.floor(c.height * fy), 1, 1).data);
        return [at(0.25, 0.25), at(0.75, 0.75)];
    }""")
    assert max(pixels[0][:3]) < 20 and pixels[1][0] > 200, pixels
    expect(page.locator("#selfcheck-panel[data-state=ready]")).to_be_visible()
    shot(page, "evidence.png", around=".kind-group[data-kind=chat]")

    # 5. Build, reproducibly, and watch it finish.
    page.goto(f"{base}/case/{CASE}/build")
    page.check("#opt-reproducible")
    page.click("#build-dossier")
    expect(page.locator("#build-progress[data-state=done]")).to_be_attached(timeout=240_000)
    expect(page.locator("#thumbs img").first).to_be_visible()
    page.wait_for_function(THUMBNAILS_LOADED)

    # 6. Download the PDF.
    with page.expect_download() as download_info:
        page.click("a.download")
    downloaded = tmp_path / "downloaded.pdf"
    download_info.value.save_as(downloaded)
    data = downloaded.read_bytes()
    assert data == (root / "dossier.pdf").read_bytes()

    # 7. The PDF: it opens, holds the three exhibits' originals, the redacted copy is black there.
    check_pdf(downloaded, chat)
    verified = CliRunner().invoke(main, ["verify", str(downloaded)])
    assert verified.exit_code == 0, verified.output

    # 8. Byte identity with the CLI's reproducible build of the same folder.
    cli = CliRunner().invoke(main, ["build", str(root), "--reproducible", "--force", "-q"])
    assert cli.exit_code == 0, cli.output
    assert (root / "dossier.pdf").read_bytes() == data
    # The build page of another channel: its letter fields with their limits, the last build's pages.
    page.goto(f"{base}/case/{CASE}/build?target=12315")
    expect(page.locator(".letter-field .counter").first).to_contain_text("/")
    first = page.locator(".letter-field").first
    first.locator("button.copy").click()
    expect(first.locator(".copied")).to_have_text(" 已复制")
    assert page.evaluate("navigator.clipboard.readText()") == first.locator("textarea").input_value()
    page.wait_for_function(THUMBNAILS_LOADED)
    shot(page, "build.png")
    assert not errors, errors


THUMBNAILS_LOADED = ("() => document.querySelectorAll('#thumbs img').length > 0 && "
                     "[...document.querySelectorAll('#thumbs img')].every(i => i.complete && i.naturalWidth > 0)")


def check_pdf(path: Path, chat: bytes) -> None:
    with pikepdf.open(path) as pdf:
        names = set(pdf.attachments.keys())
        assert any("订单详情.png" in n for n in names) and any("客服聊天.png" in n for n in names), names
        assert any(pdf.attachments[n].get_file().read_bytes() == chat for n in names)
        # The chat's display copy (the only picture of its shape): black in its top-left quarter.
        found: list[Any] = []
        for page in pdf.pages:
            for raw in page.get_images().values():
                image = pikepdf.PdfImage(raw)
                if abs(image.width / image.height - CHAT_SIZE[0] / CHAT_SIZE[1]) < 0.01:
                    found.append(image.as_pil_image().convert("RGB"))
        assert len(found) == 1, "the chat exhibit's display copy is not in the PDF"
        im = found[0]
        assert im.width < CHAT_SIZE[0]
        assert max(im.getpixel((im.width // 4, im.height // 4))) < 20
        assert im.getpixel((im.width * 3 // 4, im.height * 3 // 4))[0] > 200


def test_the_server_refuses_requests_without_the_token_and_foreign_hosts(server: tuple[str, Path]) -> None:
    address, _ = server
    port = int(address.split("/?")[0].rsplit(":", 1)[1])

    def status(path: str, host: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": host})
            return conn.getresponse().status
        finally:
            conn.close()

    assert status("/", f"127.0.0.1:{port}") == 403  # no token, no cookie
    token = address.split("token=")[1]
    assert status(f"/?token={token}", f"evil.example:{port}") == 403  # DNS rebinding: foreign Host
    assert status(f"/?token={token}", f"127.0.0.1:{port}") == 303
