"""The local web app (``evidencekit serve``): the same product as the CLI, in a browser.

Layout (one blueprint per page family, each over the same library calls the CLI uses):

- ``app``: ``create_app`` — the Flask application, its security checks (token, Host header,
  CSRF on every POST, upload limits) and blueprint registration;
- ``workspace``: ``Workspace`` — which folders are cases, and the one place a case name from a
  URL becomes a path (never outside the workspace, never through a link);
- ``views_cases``: case list (status, urgency, deadlines), new case, case facts, follow-up log;
- ``views_evidence``: evidence upload, per-file fields, redaction, previews, self-check;
- ``views_build``: per-target letter fields, build / pack with progress, thumbnails, downloads;
- ``pages/``: Jinja templates (autoescaped: file names from strangers are shown as text);
- ``static/``: the page's own CSS and JavaScript; nothing is fetched from the internet.

The case folder on disk is the single source of truth: every page reads it fresh and every
change is written through ``evidencekit.case.edit`` / ``evidencekit.fsutil``, so the CLI and the
page can be used on the same case in turn.
"""
