"""Pages: build (see evidencekit.web) — per target the letter fields with their character counts,
the dossier or the pack built in a background thread with its progress, page thumbnails of the
result and download links.

A build from the page is the CLI's: ``pipeline.build_dossier`` or ``channels.pack.pack_case`` with
the same options, writing where ``build`` and ``pack`` write by default (``dossier.pdf``,
``dossier-<target>.pdf``, ``pack-<target>/``) and replacing what is there (the page's button means
"build again"). So with "reproducible" the PDF is byte for byte what ``evidencekit build
--reproducible`` makes of the same folder. One build per case at a time. Only the files a build
wrote can be downloaded, looked up by name in that build's own list.
"""

from __future__ import annotations

import io
import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for

from evidencekit.errors import EvidenceKitError
from evidencekit.fsutil import absolute, is_inside, read_regular
from evidencekit.model import Recipient, Target
from evidencekit.rules.catalog import load_rules, target_profile
from evidencekit.web.responses import public_message
from evidencekit.web.views_evidence import chosen_target, target_choices
from evidencekit.web.workspace import Workspace, case_root, current_workspace

if TYPE_CHECKING:
    from evidencekit.pipeline import BuildOptions

bp = Blueprint("build", __name__)

MAX_THUMBNAILS = 12  # pages shown as thumbnails (the first ones)
THUMBNAIL_WIDTH = 150  # pixels
MAX_DOWNLOAD_BYTES = 512 * 1024**2  # read whole into memory: a dossier is tens of MB
_log = logging.getLogger("evidencekit.web")


@dataclass
class BuildJob:
    """One build started from the page, as its progress endpoint reports it."""

    id: str
    root: Path
    what: str  # dossier | pack
    target: Target
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    current: str = ""
    message: str = ""
    outputs: dict[str, Path] = field(default_factory=dict)  # download name -> the file the build wrote
    pdf: Path | None = None  # the PDF the thumbnails show
    page_count: int = 0
    notes: list[str] = field(default_factory=list)
    thumbnails: dict[int, bytes] = field(default_factory=dict)

    def progress(self, done: int, total: int, current: str) -> None:
        self.done, self.total, self.current = done, total, current

    def to_json(self, name: str) -> dict[str, Any]:
        return {
            "id": self.id, "what": self.what, "target": self.target.value, "state": self.state,
            "done": self.done, "total": self.total, "current": self.current, "message": self.message,
            "page_count": self.page_count, "notes": self.notes,
            "outputs": [{"name": n, "url": url_for("build.download", name=name, file=n),
                         "size": _size(p)} for n, p in self.outputs.items()],
            "thumbnails": [url_for("build.thumbnail", name=name, page=i, job=self.id) for i in sorted(self.thumbnails)],
        }


_jobs: dict[str, BuildJob] = {}  # case folder -> its latest build
_jobs_lock = threading.Lock()


def _size(path: Path) -> int | None:
    try:
        return path.lstat().st_size
    except OSError:
        return None


@bp.get("/case/<name>/build")
def index(name: str) -> Any:
    from evidencekit.channels.letter import letter_for_folder
    from evidencekit.pipeline import BuildOptions

    root = case_root(name)
    target = chosen_target()
    recipients = recipient_choices(target)
    recipient = chosen_recipient(target)
    error, fields = "", []
    try:
        letter = letter_for_folder(root, BuildOptions(target=target), recipient=recipient)
        fields = [{"name": f.name, "text": f.text, "limit": f.limit, "limit_note": f.limit_note,
                   "cut": bool(f.cuts)} for f in letter.fields]
    except EvidenceKitError as exc:
        error = public_message(exc)
    job = _jobs.get(str(root))
    return render_template("build.html", case_name=name, targets=target_choices(), target=target.value,
                           recipients=recipients, recipient=recipient.value if recipient else "",
                           fields=fields, error=error, job=job.to_json(name) if job else None)


def recipient_choices(target: Target) -> list[tuple[str, str]]:
    """Whom the letter can be addressed to (email: 商家, 平台, 消协 …; none for form channels)."""
    profile = target_profile(target, load_rules())
    return [(key.value, wording.label) for key, wording in profile.recipients.items()]


def chosen_recipient(target: Target) -> Recipient | None:
    """``?to=`` (or the JSON body's ``to``) when the target's letter has an addressee."""
    value = request.args.get("to") or (request.get_json(silent=True) or {}).get("to") or ""
    if not recipient_choices(target):
        return None
    try:
        return Recipient(str(value))
    except ValueError:
        return None


@bp.post("/case/<name>/build/start")
def start(name: str) -> Any:
    """Start building the dossier or the pack for one target; 409 while one is running."""
    root = case_root(name)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("what") not in ("dossier", "pack"):
        return jsonify(ok=False, error="请求格式不对"), 400
    target = chosen_target()
    flags = {key: body.get(key) is True
             for key in ("reproducible", "mask_personal", "no_originals", "no_ocr", "strict", "renumber")}
    with _jobs_lock:
        running = _jobs.get(str(root))
        if running is not None and running.state == "running":
            return jsonify(ok=False, error="这个案件正在生成，请等当前的生成完成"), 409
        job = BuildJob(secrets.token_hex(8), root, str(body["what"]), target)
        _jobs[str(root)] = job
    workspace = current_workspace()
    recipient = chosen_recipient(target)
    threading.Thread(target=_run, args=(job, flags, workspace, recipient), name=f"build-{name}", daemon=True).start()
    return jsonify(ok=True, job=job.to_json(name))


def _run(job: BuildJob, flags: dict[str, bool], workspace: Workspace, recipient: Recipient | None) -> None:
    """The build, in a worker thread. sigterm_as_interrupt is never entered here (it only works
    on the main thread and does nothing elsewhere); every error becomes the CLI's message."""
    from evidencekit.pipeline import BuildOptions

    options = BuildOptions(target=job.target, force=True, reproducible=flags["reproducible"],
                           mask_personal=flags["mask_personal"], attach_originals=not flags["no_originals"],
                           ocr=not flags["no_ocr"], strict=flags["strict"], renumber=flags["renumber"])
    try:
        with _one_build_at_a_time:
            _build(job, options, recipient)
        job.message = "已生成"
        job.state = "done"
    except EvidenceKitError as exc:
        job.message, job.state = workspace.public_text(exc.render()), "failed"
    except Exception as exc:  # the page shows a message, never a traceback
        _log.error("build from the page failed: %s", type(exc).__name__)
        job.message = (f"内部错误（{type(exc).__name__}）：这是 evidencekit 的程序错误，不是您的操作问题；"
                       "可在终端运行 evidencekit build --debug 查看详情")
        job.state = "failed"


# Builds from the page run one after another, whatever the case: PDFium (pack's page images, the
# thumbnails) is not thread-safe, and two builds on two cores would only wait for each other anyway.
_one_build_at_a_time = threading.Lock()


def _build(job: BuildJob, options: BuildOptions, recipient: Recipient | None) -> None:
    from evidencekit.channels.pack import README_NAME, PackOptions, pack_case
    from evidencekit.pipeline import build_dossier

    if job.what == "dossier":
        result = build_dossier(job.root, options, job.progress)
        job.outputs = {result.output.name: result.output}
        job.pdf = result.output
        job.notes = list(result.notes)
    else:
        packed = pack_case(job.root, PackOptions(options, recipient=recipient), job.progress)
        files = {n: packed.outdir / n for n in [*(f.name for f in packed.files), README_NAME]}
        job.outputs = {n: p for n, p in files.items() if p.is_file() and not p.is_symlink()}
        job.pdf = next((p for n, p in job.outputs.items() if n.endswith(".pdf")), None)
        job.notes = list(packed.notes)
    if job.pdf is not None:
        job.page_count, job.thumbnails = _thumbnails(job.pdf)


def _thumbnails(pdf: Path) -> tuple[int, dict[int, bytes]]:
    """The page count and small PNGs of the first MAX_THUMBNAILS pages, made here in the build's
    own thread (PDFium is used by one thread at a time), served from memory afterwards."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    thumbnails = {}
    try:
        for index in range(min(len(doc), MAX_THUMBNAILS)):
            page = doc[index]
            image = page.render(scale=THUMBNAIL_WIDTH / max(1.0, page.get_width())).to_pil().convert("RGB")
            buffer = io.BytesIO()
            image.save(buffer, "PNG", optimize=True)
            thumbnails[index + 1] = buffer.getvalue()
        return len(doc), thumbnails
    finally:
        doc.close()


@bp.get("/case/<name>/build/job")
def job_status(name: str) -> Any:
    root = case_root(name)
    job = _jobs.get(str(root))
    return jsonify(job.to_json(name) if job else {"state": "none"})


def _finished_job(root: Path) -> BuildJob:
    job = _jobs.get(str(root))
    if job is None or job.state != "done":
        abort(404, description="还没有生成结果")
    return job


@bp.get("/case/<name>/build/thumbnail/<int:page>")
def thumbnail(name: str, page: int) -> Any:
    """A small PNG of one of the first pages of the PDF the last build wrote."""
    job = _finished_job(case_root(name))
    if page not in job.thumbnails:
        abort(404)
    return _bytes_response(job.thumbnails[page], "image/png")


@bp.get("/case/<name>/build/download/<path:file>")
def download(name: str, file: str) -> Any:
    """A file the last build of this case wrote, by its name in that build's list only."""
    root = case_root(name)
    job = _finished_job(root)
    path = job.outputs.get(file)
    if path is None or not (is_inside(path, root.resolve()) or is_inside(path, absolute(root))):
        abort(404, description="没有这个生成结果")
    try:
        data = read_regular(path, what="生成结果", max_bytes=MAX_DOWNLOAD_BYTES)
    except EvidenceKitError:
        abort(404, description="没有这个生成结果")
    kind = "application/pdf" if path.suffix == ".pdf" else "application/octet-stream"
    response = _bytes_response(data, kind)
    response.headers["Content-Disposition"] = _attachment(Path(file).name)
    return response


def _attachment(name: str) -> str:
    ascii_name = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _bytes_response(data: bytes, kind: str) -> Any:
    return current_app.response_class(data, mimetype=kind, headers={"Cache-Control": "no-store"})
