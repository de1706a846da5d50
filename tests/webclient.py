"""A Flask test client for evidencekit serve that behaves like the shopper's browser.

It has visited the printed address once (so it holds the ``ek_token_<port>`` cookie), sends the Host
header the server was started for, and adds the page's CSRF token to every POST. Tests of the
security checks themselves use ``raw`` (no cookie, no CSRF) and set what they want to break.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from evidencekit.case.load import render_case_template
from evidencekit.web.app import create_app
from evidencekit.web.security import cookie_name

TOKEN = "test-token-0123456789"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


class _CompiledPages(BytecodeCache):
    """The pages' compiled templates, shared by every test's app: a server makes one app and
    compiles each page once, a test makes an app per test (a page costs ~10 ms to compile).
    Jinja checks each entry against the template's source, so a changed page compiles again."""

    def __init__(self) -> None:
        self.codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.codes:
            bucket.bytecode_from_string(self.codes[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.codes[bucket.key] = bucket.bytecode_to_string()


_PAGES = _CompiledPages()


class WebClient:
    def __init__(self, workspace: Path) -> None:
        self.app: Flask = create_app(workspace, TOKEN, PORT)
        self.app.config["TESTING"] = True
        self.app.jinja_env.bytecode_cache = _PAGES
        self.raw: FlaskClient = self.app.test_client()
        self.client: FlaskClient = self.app.test_client()
        self.client.set_cookie(cookie_name(PORT), TOKEN, domain="127.0.0.1")

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
