"""What makes a local web server safe on a shared machine: every request is checked here.

A page on 127.0.0.1 is reachable by every program and every web page the shopper's browser
opens. So, in this order, before any handler runs:

1. **Host header** in ``EK_HOSTS``: a foreign Host is a DNS-rebinding page pretending to be us;
2. **access token**: the ``ek_token_<port>`` cookie (a browser keeps one set of cookies for
   127.0.0.1 whatever the port: two servers must not share a name), set (HttpOnly, SameSite=Strict) by the one GET that
   carries ``?token=`` from the printed address, which is then redirected to the URL without it
   (so the token leaves the address bar and the history);
3. **body size** over ``EK_MAX_UPLOAD`` → 413 before anything reads the body;
4. **POST only with proof it comes from our page**: an ``Origin`` (when the browser sends one)
   that is ours, and the CSRF token in the ``X-CSRF-Token`` header or a ``csrf_token`` field.

Every response carries a Content-Security-Policy allowing only our own files (images also from
``blob:``/``data:``, for previews drawn in the page), ``nosniff``, no referrer, and pages are
not cached (they show personal data).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, redirect, request

from evidencekit.web.responses import refuse

COOKIE = "ek_token"  # the cookie is named COOKIE_<port>: see cookie_name
TOKEN_PARAM = "token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

# The largest original `verify` checks (integrity.verify.MAX_ATTACHMENT_BYTES; a test keeps them
# equal): a file the CLI could not verify inside its own dossier is not taken from the page either.
# Not imported from there: the RFC 3161 stack it loads would double serve's start time.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024

CSP = ("default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def cookie_name(port: int) -> str:
    return f"{COOKIE}_{port}"


def install(app: Flask) -> None:
    app.before_request(_check_request)
    app.after_request(_add_headers)


def _same(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def _check_request() -> Any:
    cfg = current_app.config
    if request.host not in cfg["EK_HOSTS"]:
        return refuse(403, "拒绝访问：请求的主机名不是本机地址（可能是其他网页冒充本工具）。请使用启动时显示的地址。")
    token = cfg["EK_TOKEN"]
    given = request.args.get(TOKEN_PARAM)
    if given is not None and request.method == "GET" and _same(given, token):
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != TOKEN_PARAM]
        response = redirect(request.path + (f"?{urlencode(rest)}" if rest else ""), code=303)
        response.set_cookie(cfg["EK_COOKIE"], token, httponly=True, samesite="Strict", path="/")
        return response
    if not _same(request.cookies.get(cfg["EK_COOKIE"]), token):
        return refuse(403, "拒绝访问：缺少访问口令。请打开 evidencekit serve 启动时显示的完整地址（含 token=…）。")
    limit = int(cfg["EK_MAX_UPLOAD"])
    request.max_content_length = limit  # a body without Content-Length is cut off at the limit too
    if request.content_length is not None and request.content_length > limit:
        return too_large()
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.method != "POST":
        return refuse(405, "不支持这种请求方式。")
    origin = request.headers.get("Origin")
    # Under Referrer-Policy: no-referrer, Chromium sends "Origin: null" with our own form posts;
    # Sec-Fetch-Site (set by the browser, never by a page) then tells they come from our page.
    own_null = origin == "null" and request.headers.get("Sec-Fetch-Site") == "same-origin"
    if origin is not None and not own_null and origin not in {f"http://{host}" for host in cfg["EK_HOSTS"]}:
        return refuse(403, "拒绝访问：请求来自其他网站，未执行。")
    if request.headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
        return refuse(403, "拒绝访问：请求来自其他网站，未执行。")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = request.form.get(CSRF_FIELD)
    if not _same(sent, cfg["EK_CSRF"]):
        return refuse(403, "拒绝访问：页面已过期或请求不是从本页面发出的。请刷新页面后重试。")
    return None


def too_large() -> Response:
    limit = int(current_app.config["EK_MAX_UPLOAD"])
    shown = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} 字节"
    return refuse(413, f"上传的内容过大：一次最多 {shown}。请分几次上传，或用 evidencekit add 命令添加。")


def _add_headers(response: Response) -> Response:
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response
