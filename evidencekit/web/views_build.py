"""Pages: build (see evidencekit.web)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("build", __name__)
