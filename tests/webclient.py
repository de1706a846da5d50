"""A Flask test client for evidencekit serve that behaves like the shopper's browser.

It has visited the printed address once (so it holds the ``ek_token`` cookie), sends the Host
header the server was started for, and adds the page's CSRF token to every POST. Tests of the
security checks themselves use ``raw`` (no cookie, no CSRF) and set what they want to break.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from evidencekit.case.load import render_case_template
from evidencekit.web.app import create_app

TOKEN = "test-token-0123456789"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


class WebClient:
    def __init__(self, workspace: Path) -> None:
        self.app: Flask = create_app(workspace, TOKEN, PORT)
        self.app.config["TESTING"] = True
        self.raw: FlaskClient = self.app.test_client()
        self.client: FlaskClient = self.app.test_client()
        self.client.set_cookie("ek_token", TOKEN, domain="127.0.0.1")

    @property
    def csrf(self) -> str:
        return str(self.app.config["EK_CSRF"])

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, base_url=BASE, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.client.post(url, base_url=BASE, headers=headers, **kw)


def make_case_folder(root: Path, text: str | None = None) -> Path:
    """A case folder for the pages: ``text`` as its case.yaml (default: `init`'s blank template)."""
    (root / "evidence" / "order").mkdir(parents=True)
    (root / "case.yaml").write_text(render_case_template({}) if text is None else text, encoding="utf-8")
    return root
