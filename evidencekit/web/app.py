"""The Flask application: security checks and blueprint registration.

Contract the pages and tests rely on (the checks themselves are in this module):

- ``EK_TOKEN``: the access token printed by ``serve``. A GET with ``?token=<T>`` sets the cookie
  ``ek_token`` (HttpOnly, SameSite=Strict) and redirects to the same URL without it; every other
  request must carry that cookie.
- ``EK_HOSTS``: the Host header values accepted (``127.0.0.1:<port>``, ``localhost:<port>``).
- ``EK_CSRF``: one random token per server; templates get it as ``csrf_token`` and every POST must
  send it back in the ``X-CSRF-Token`` header or a ``csrf_token`` form field.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from evidencekit.web import views_build, views_cases, views_evidence
from evidencekit.web.workspace import Workspace


def create_app(workspace: Path, token: str, port: int) -> Flask:
    app = Flask(__name__, template_folder="pages", static_folder="static")
    app.config["EK_WORKSPACE"] = Workspace(workspace.absolute())
    app.config["EK_TOKEN"] = token
    app.config["EK_HOSTS"] = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
    app.config["EK_CSRF"] = secrets.token_urlsafe(32)

    @app.context_processor
    def _csrf() -> dict[str, Any]:
        return {"csrf_token": app.config["EK_CSRF"]}

    app.register_blueprint(views_cases.bp)
    app.register_blueprint(views_evidence.bp)
    app.register_blueprint(views_build.bp)
    return app
