"""The Flask application: security checks and blueprint registration."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from evidencekit.web import views_build, views_cases, views_evidence
from evidencekit.web.workspace import Workspace


def create_app(workspace: Path, token: str) -> Flask:
    app = Flask(__name__, template_folder="pages", static_folder="static")
    app.config["EK_WORKSPACE"] = Workspace(workspace.absolute())
    app.config["EK_TOKEN"] = token

    app.register_blueprint(views_cases.bp)
    app.register_blueprint(views_evidence.bp)
    app.register_blueprint(views_build.bp)
    return app
