"""Error responses in Chinese: a page for the browser, JSON for the page's own fetch() calls.

Messages never carry this machine's paths (``Workspace.public_text``) nor a traceback.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, render_template, request

from evidencekit.errors import EvidenceKitError
from evidencekit.web.workspace import current_workspace

_TITLES = {400: "请求有误", 403: "拒绝访问", 404: "找不到", 405: "不支持的请求", 413: "内容过大", 500: "程序错误"}


def wants_json() -> bool:
    """A fetch() from our script (it sends the CSRF header or asks for JSON), not a page load."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" or ("X-CSRF-Token" in request.headers and best != "text/html")


def refuse(status: int, message: str) -> Response:
    if wants_json():
        response = jsonify({"ok": False, "error": message})
    else:
        response = current_app.response_class(
            render_template("error.html", status=status, title=_TITLES.get(status, "出错了"), message=message,
                            case_name=None),
            mimetype="text/html")
    response.status_code = status
    return response


def public_message(exc: EvidenceKitError) -> str:
    """The error's Chinese text with the workspace's path on this machine taken out."""
    return current_workspace().public_text(exc.render())
