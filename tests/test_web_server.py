"""evidencekit serve as a local server: the security checks every request passes, the one way a
case name becomes a folder, and the real server process on 127.0.0.1 (issue #14)."""

from __future__ import annotations

import http.client
import io
import os
import re
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from webclient import BASE, PORT, TOKEN, WebClient, make_case_folder

from evidencekit.channels import batch
from evidencekit.cli import main
from evidencekit.cli.serve import open_socket
from evidencekit.integrity import verify
from evidencekit.web import security, workspace
from evidencekit.web.workspace import Workspace, clean_case_name


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    make_case_folder(folder / "张三")
    return folder


@pytest.fixture
def web(ws: Path) -> WebClient:
    return WebClient(ws)


def _text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined,no-any-return]


# ---------------------------------------------------------------------------------------------
# The access token
# ---------------------------------------------------------------------------------------------


def test_a_request_without_the_token_is_refused_in_chinese(web: WebClient) -> None:
    for url in ("/", "/new", "/case/张三/facts", "/static/app.css"):
        r = web.raw.get(url, base_url=BASE)
        assert r.status_code == 403, url
    assert "访问口令" in _text(web.raw.get("/", base_url=BASE))


def test_the_token_in_the_address_sets_the_cookie_and_leaves_the_address(web: WebClient) -> None:
    r = web.raw.get(f"/case/张三/facts?token={TOKEN}&x=1", base_url=BASE)
    assert r.status_code == 303
    location = r.headers["Location"]
    assert TOKEN not in location and location.endswith("/facts?x=1")
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"ek_token_{PORT}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # The client now holds the cookie: the page opens without the token.
    assert web.raw.get("/", base_url=BASE).status_code == 200


def test_two_servers_on_two_ports_keep_their_own_cookie(tmp_path: Path) -> None:
    """A browser keeps 127.0.0.1's cookies whatever the port: a second `serve` (another
    workspace, a volunteer's second case batch) must not replace the first one's cookie."""
    from evidencekit.web.app import create_app

    jar: dict[str, str] = {}  # name -> value, for 127.0.0.1 on every port, as a browser keeps them
    apps = {}
    for port, token in ((8801, "token-of-the-first"), (8802, "token-of-the-second")):
        (tmp_path / str(port)).mkdir()
        app = apps[port] = create_app(tmp_path / str(port), token, port)
        r = app.test_client().get(f"/?token={token}", base_url=f"http://127.0.0.1:{port}")
        assert r.status_code == 303
        name, _, value = r.headers["Set-Cookie"].split(";")[0].partition("=")
        jar[name] = value
    cookies = "; ".join(f"{k}={v}" for k, v in jar.items())
    for port, app in apps.items():
        r = app.test_client(use_cookies=False).get("/", base_url=f"http://127.0.0.1:{port}", headers={"Cookie": cookies})
        assert r.status_code == 200, (port, jar)


def test_a_wrong_token_or_cookie_is_refused(web: WebClient) -> None:
    assert web.raw.get("/?token=guess", base_url=BASE).status_code == 403
    web.raw.set_cookie(f"ek_token_{PORT}", "guess", domain="127.0.0.1")
    assert web.raw.get("/", base_url=BASE).status_code == 403


def test_the_token_is_not_accepted_by_post(web: WebClient) -> None:
    # Only the GET from the printed address trades the token for the cookie.
    r = web.raw.post(f"/new?token={TOKEN}", base_url=BASE, data={"case_name": "x", "csrf_token": web.csrf})
    assert r.status_code == 403
    assert not (web.app.config["EK_WORKSPACE"].root / "x").exists()


# ---------------------------------------------------------------------------------------------
# Host header (DNS rebinding), CSRF, Origin
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example:8765", f"127.0.0.1:{PORT + 1}", "localhost", "0.0.0.0:8765",
                                  "[::1]:8765"])
def test_a_foreign_host_header_is_refused_even_with_the_token(web: WebClient, host: str) -> None:
    assert web.get("/", headers={"Host": host}).status_code == 403
    # Checked before the token: a rebinding page never even gets the cookie.
    r = web.raw.get(f"/?token={TOKEN}", base_url=BASE, headers={"Host": host})
    assert r.status_code == 403 and "Set-Cookie" not in r.headers
    assert "主机名" in _text(r)


def test_localhost_with_the_port_is_accepted(web: WebClient) -> None:
    assert web.raw.get(f"/?token={TOKEN}", base_url=f"http://localhost:{PORT}").status_code == 303


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(web: WebClient, ws: Path) -> None:
    data = {"case_name": "李四"}
    assert web.client.post("/new", base_url=BASE, data=data).status_code == 403
    assert web.client.post("/new", base_url=BASE, data=data, headers={"X-CSRF-Token": "nope"}).status_code == 403
    assert web.client.post("/new", base_url=BASE, data={**data, "csrf_token": "nope"}).status_code == 403
    assert not (ws / "李四").exists()
    # The page's own form field is enough.
    r = web.client.post("/new", base_url=BASE, data={**data, "csrf_token": web.csrf})
    assert r.status_code == 303 and (ws / "李四" / "case.yaml").is_file()


def test_a_cross_origin_post_is_refused(web: WebClient, ws: Path) -> None:
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{PORT + 1}", f"https://127.0.0.1:{PORT}"):
        r = web.post("/new", data={"case_name": "王五"}, headers={"Origin": origin})
        assert r.status_code == 403, origin
    assert web.post("/new", data={"case_name": "王五"}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert not (ws / "王五").exists()
    assert web.post("/new", data={"case_name": "王五"}, headers={"Origin": BASE}).status_code == 303


def test_other_methods_are_refused(web: WebClient) -> None:
    assert web.client.put("/new", base_url=BASE, headers={"X-CSRF-Token": web.csrf}).status_code == 405
    assert web.client.delete("/case/张三/facts", base_url=BASE, headers={"X-CSRF-Token": web.csrf}).status_code == 405


# ---------------------------------------------------------------------------------------------
# Body size, headers
# ---------------------------------------------------------------------------------------------


def test_an_oversize_body_is_refused_with_413_before_it_is_read(web: WebClient, ws: Path) -> None:
    web.app.config["EK_MAX_UPLOAD"] = 1000
    r = web.post("/new", data={"case_name": "大文件", "pad": "x" * 2000})
    assert r.status_code == 413
    assert "过大" in _text(r)
    assert not (ws / "大文件").exists()
    assert web.post("/new", data={"case_name": "小文件"}).status_code == 303


def test_a_body_without_content_length_is_cut_at_the_limit(web: WebClient, ws: Path) -> None:
    # A chunked upload (waitress marks it wsgi.input_terminated) has no length to check first.
    web.app.config["EK_MAX_UPLOAD"] = 1000
    body = io.BytesIO(b"case_name=" + "长".encode() * 2000)
    r = web.post("/new", input_stream=body, content_type="application/x-www-form-urlencoded",
                 environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 413
    assert "过大" in _text(r)
    assert [p.name for p in ws.iterdir()] == ["张三"]


def test_the_upload_limit_is_the_largest_original_verify_checks() -> None:
    assert security.MAX_UPLOAD_BYTES == verify.MAX_ATTACHMENT_BYTES
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"{security.MAX_UPLOAD_BYTES // (1024 * 1024)} MB" in readme[readme.index("## 安全限制"):]


def test_every_response_carries_the_security_headers(web: WebClient) -> None:
    for r in (web.get("/"), web.raw.get("/", base_url=BASE), web.get("/case/nobody/facts")):
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "img-src 'self' blob: data:" in csp
        assert "http" not in csp  # nothing from the internet
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["Cache-Control"] == "no-store"


def test_pages_load_nothing_from_the_internet(web: WebClient) -> None:
    for url in ("/", "/new", "/case/张三/facts", "/case/张三/followup"):
        page = _text(web.get(url))
        assert not re.search(r"(src|href)=\"(https?:)?//", page), url


# ---------------------------------------------------------------------------------------------
# Case names from URLs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["..", ".", "%2E%2E", "..%2Fetc", "张三%2Fevidence", "%2Fetc", ".hidden",
                                  "nobody", "a%5Cb", "link-out", "link-in", "file.txt", "%00"])
def test_names_that_are_not_a_case_directly_inside_are_404(tmp_path: Path, name: str) -> None:
    ws = tmp_path / "ws"
    make_case_folder(ws / "张三")
    make_case_folder(ws / ".hidden")
    outside = make_case_folder(tmp_path / "outside")
    (ws / "link-out").symlink_to(outside)
    (ws / "link-in").symlink_to(ws / "张三")
    (ws / "file.txt").write_text("x")
    web = WebClient(ws)
    for page in ("facts", "followup"):
        r = web.get(f"/case/{name}/{page}", follow_redirects=True)  # "//" is merged by a redirect first
        assert r.status_code == 404, (name, page, r.status_code)
        assert str(tmp_path) not in _text(r)


def test_links_and_hidden_folders_are_never_listed(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    make_case_folder(ws / "张三")
    make_case_folder(ws / ".hidden")
    outside = make_case_folder(tmp_path / "outside", "schema: 1\norder:\n  product: 外面的秘密\n")
    (ws / "link-out").symlink_to(outside)
    assert Workspace.open(ws).case_names() == ["张三"]
    page = _text(WebClient(ws).get("/"))
    assert "张三" in page and "link-out" not in page and ".hidden" not in page and "外面的秘密" not in page


def test_a_case_file_linking_outside_is_refused_not_shown(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    case = make_case_folder(ws / "张三")
    secret = tmp_path / "secret.yaml"
    secret.write_text("order:\n  product: 机密内容\n", encoding="utf-8")
    (case / "case.yaml").unlink()
    (case / "case.yaml").symlink_to(secret)
    web = WebClient(ws)
    for url in ("/case/张三/facts", "/case/张三/followup", "/"):
        r = web.get(url)
        assert r.status_code == 200, url
        assert "机密内容" not in _text(r) and str(tmp_path) not in _text(r)
    assert "链接" in _text(web.get("/case/张三/facts"))
    r = web.post("/case/张三/facts", data={"order.product": "改写"})
    assert secret.read_text(encoding="utf-8") == "order:\n  product: 机密内容\n"
    assert r.status_code == 400


def test_the_workspace_sees_cases_as_batch_does(tmp_path: Path) -> None:
    make_case_folder(tmp_path / "a")
    (tmp_path / "b" / "evidence").mkdir(parents=True)
    (tmp_path / "c").mkdir()
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "case.yml").write_text("schema: 1\n")
    (tmp_path / "e" / "证据").mkdir(parents=True)
    for child in tmp_path.iterdir():
        assert workspace.is_case_folder(child) == batch.is_case_folder(child), child.name


def test_a_case_folder_as_workspace_shows_that_case_alone(tmp_path: Path) -> None:
    case = make_case_folder(tmp_path / "我的案件")
    make_case_folder(tmp_path / "别人的案件")
    web = WebClient(case)
    assert web.app.config["EK_WORKSPACE"].case_names() == ["我的案件"]
    page = _text(web.get("/"))
    assert "我的案件" in page and "别人的案件" not in page and 'id="new-case"' not in page
    assert web.get("/case/我的案件/facts").status_code == 200
    assert web.get("/case/别人的案件/facts").status_code == 404
    r = web.post("/new", data={"case_name": "新案件"})
    assert r.status_code == 400 and not (tmp_path / "新案件").exists()


@pytest.mark.parametrize(("raw", "clean"), [
    ("张三/退款", "张三_退款"), ("../x", "_x"), ("..", ""), ("  .隐藏  ", "隐藏"), ("a\x00b\u202ec", "abc"),
    ("CON:1", "CON_1"), ("///", ""), ("名" * 200, "名" * 80), ("a   b", "a b"),
])
def test_case_names_are_cleaned(raw: str, clean: str) -> None:
    assert clean_case_name(raw) == clean


# ---------------------------------------------------------------------------------------------
# Error pages
# ---------------------------------------------------------------------------------------------


def test_an_internal_error_is_a_chinese_page_without_traceback_or_path(web: WebClient, ws: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencekit.web import views_cases

    def broken(*_args: object, **_kw: object) -> object:
        raise RuntimeError(f"boom in {ws}")

    monkeypatch.setattr(views_cases, "statuses", broken)
    r = web.get("/")
    assert r.status_code == 500
    assert "程序错误" in _text(r) and "Traceback" not in _text(r) and str(ws) not in _text(r)


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


def test_serve_refuses_a_missing_or_unusable_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["serve", str(tmp_path / "nowhere"), "--no-browser"])
    assert result.exit_code == 4 and "文件夹不存在" in result.output
    (tmp_path / "file").write_text("x")
    result = runner.invoke(main, ["serve", str(tmp_path / "file"), "--no-browser"])
    assert result.exit_code == 4 and "不是文件夹" in result.output


def test_a_busy_port_falls_back_to_a_free_one() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        busy = taken.getsockname()[1]
        sock = open_socket(busy)
        try:
            assert sock.getsockname()[0] == "127.0.0.1"
            assert sock.getsockname()[1] not in (busy, 0)
        finally:
            sock.close()
    finally:
        taken.close()


def _request(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _other_local_address() -> str | None:
    """An address of this machine other than 127.0.0.1 (127.0.0.2 is one on Linux)."""
    if sys.platform.startswith("linux"):
        return "127.0.0.2"
    try:
        found = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except OSError:
        return None
    return next((a for a in sorted(found) if a != "127.0.0.1"), None)


def test_the_real_server_answers_on_127_0_0_1_only_with_the_token(tmp_path: Path) -> None:
    make_case_folder(tmp_path / "张三")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "evidencekit", "serve", str(tmp_path), "--no-browser", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = ""
        for _ in range(10):
            line = proc.stdout.readline()
            if "http://" in line:
                url = line.strip()
                break
        print(f"\nevidencekit serve answered its address after {time.monotonic() - started:.2f} s")
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname == "127.0.0.1" and parts.port
        port = parts.port
        query = parts.query
        assert _request(port, "/").status == 403
        first = _request(port, f"/?{query}")
        assert first.status == 303
        cookie = first.getheader("Set-Cookie", "").split(";")[0]
        assert cookie.startswith(f"ek_token_{port}=")
        print(f"first page after {time.monotonic() - started:.2f} s")
        assert _request(port, "/", {"Cookie": cookie}).status == 200
        assert _request(port, "/", {"Cookie": cookie, "Host": f"evil.example:{port}"}).status == 403
        other = _other_local_address()
        if other is None:
            pytest.skip("this machine has no local address besides 127.0.0.1")
        with pytest.raises(OSError):
            socket.create_connection((other, port), timeout=5).close()
    finally:
        proc.terminate()
        rest = proc.stdout.read() if proc.stdout is not None else ""
        proc.wait(timeout=20)
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == 0
    assert "已停止" in rest


def test_two_requests_editing_one_case_take_turns(tmp_path: Path) -> None:
    # serve answers from several threads of one process: the case lock must hold between them
    # as it does between two processes (it is re-entrant within one thread only).
    import threading

    from evidencekit.fsutil import case_lock

    case = make_case_folder(tmp_path / "张三")
    first_in, release, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with case_lock(case):
            first_in.set()
            release.wait(10)

    def second() -> None:
        first_in.wait(10)
        with case_lock(case):
            second_in.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        assert first_in.wait(10)
        assert not second_in.wait(0.5)  # still waiting for the first request's lock
    finally:
        release.set()
        for thread in threads:
            thread.join(10)
    assert second_in.is_set()
    with case_lock(case), case_lock(case):  # and within one thread it is still re-entrant
        pass


@given(st.text(max_size=300))
def test_a_cleaned_case_name_is_one_plain_folder_name(raw: str) -> None:
    name = clean_case_name(raw)
    assert clean_case_name(name) == name
    if not name:
        return
    assert len(name) <= workspace.MAX_NAME_CHARS and len(name.encode()) <= 255
    assert not name.startswith((".", " ")) and not name.endswith((".", " "))
    assert not set(name) & set('/\\:*?"<>|\0')
    assert all(unicodedata.category(c)[0] != "C" for c in name)
    assert Path(name).name == name and name not in (".", "..")


def test_a_case_folder_given_through_the_users_own_link_opens(tmp_path: Path) -> None:
    case = make_case_folder(tmp_path / "真的" / "我的案件")
    (tmp_path / "快捷方式").symlink_to(case)
    web = WebClient(tmp_path / "快捷方式")
    assert web.app.config["EK_WORKSPACE"].case_names() == ["我的案件"]
    assert web.get("/case/我的案件/facts").status_code == 200


@pytest.mark.parametrize("path", ["//evil.example/x", "/\\evil.example", "///evil.example"])
def test_the_token_redirect_never_leaves_the_site(web: WebClient, path: str) -> None:
    # The redirect goes to request.path, which werkzeug gives with one leading slash (and "\\"
    # quoted): this pins that, since "//host/…" as a Location would send the browser elsewhere.
    r = web.raw.get(f"{path}?token={TOKEN}", base_url=BASE)
    assert r.status_code == 303
    location = r.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
