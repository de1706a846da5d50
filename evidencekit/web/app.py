"""The Flask application: configuration, security checks (web.security) and blueprint registration.

Contract the pages and tests rely on:

- ``EK_TOKEN``: the access token printed by ``serve``. A GET with ``?token=<T>`` sets the cookie
  ``ek_token_<port>`` (HttpOnly, SameSite=Strict) and redirects to the same URL without it; every other
  request must carry that cookie.
- ``EK_HOSTS``: the Host header values accepted (``127.0.0.1:<port>``, ``localhost:<port>``).
- ``EK_CSRF``: one random token per server; templates get it as ``csrf_token`` and every POST must
  send it back in the ``X-CSRF-Token`` header or a ``csrf_token`` form field.
- ``EK_MAX_UPLOAD``: the largest request body, in bytes (413 above it).
- ``EK_WORKSPACE``: the :class:`~evidencekit.web.workspace.Workspace`; a case folder given as
  the workspace is shown alone.

Library errors become Chinese pages: NoSuchCase → 404, other EvidenceKitError → 400, anything
else → 500 without a traceback (the log of the terminal that runs ``serve`` has it).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from evidencekit.errors import EvidenceKitError, NoSuchCase
from evidencekit.web import security, views_build, views_cases, views_evidence
from evidencekit.web.responses import public_message, refuse
from evidencekit.web.workspace import Workspace

_log = logging.getLogger("evidencekit.web")


def create_app(workspace: Path, token: str, port: int) -> Flask:
    app = Flask(__name__, template_folder="pages", static_folder="static")
    app.config["EK_WORKSPACE"] = Workspace.open(workspace)
    app.config["EK_TOKEN"] = token
    app.config["EK_COOKIE"] = security.cookie_name(port)
    app.config["EK_HOSTS"] = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
    app.config["EK_CSRF"] = secrets.token_urlsafe(32)
    app.config["EK_MAX_UPLOAD"] = security.MAX_UPLOAD_BYTES
    app.config["MAX_CONTENT_LENGTH"] = security.MAX_UPLOAD_BYTES
    app.config["MAX_FORM_MEMORY_SIZE"] = 2 * 1024 * 1024  # text fields; files go to temporary files
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.context_processor
    def _csrf() -> dict[str, Any]:
        # has_endpoint: the nav links only the pages this build has (each page family is its own blueprint).
        return {"csrf_token": app.config["EK_CSRF"], "has_endpoint": lambda name: name in app.view_functions}

    security.install(app)
    app.register_error_handler(NoSuchCase, _no_such_case)
    app.register_error_handler(EvidenceKitError, _library_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
    app.register_blueprint(views_cases.bp)
    app.register_blueprint(views_evidence.bp)
    app.register_blueprint(views_build.bp)
    return app


def _no_such_case(exc: NoSuchCase) -> Response:
    return refuse(404, public_message(exc))


def _library_error(exc: EvidenceKitError) -> Response:
    return refuse(400, public_message(exc))


_HTTP_MESSAGES = {404: "没有这个页面。", 405: "不支持这种请求方式。", 400: "请求有误，请刷新页面后重试。"}


def _http_error(exc: HTTPException) -> Response:
    if isinstance(exc, RequestEntityTooLarge):
        return security.too_large()
    code = exc.code or 500
    return refuse(code, _HTTP_MESSAGES.get(code, "请求未能完成。"))


def _internal_error(exc: Exception) -> Response:
    _log.exception("internal error")  # the serving terminal; never the page
    return refuse(500, f"内部错误（{type(exc).__name__}）：这是 evidencekit 的程序错误，不是您的操作问题。"
                       "请把运行 evidencekit serve 的终端里显示的内容附在问题报告里。")
