"""Pages: evidence (see evidencekit.web) — the case's files by kind, upload, per-file fields,
redaction by rectangles, previews of the display copies, and the self-check.

Everything shown is what ``check`` computes (``pipeline.assess_case`` with OCR off): the same
inventory (links leaving the case, devices and litter are refused there), the same hashes, the
same resolved times. A preview is a display copy the dossier would embed, made by
``media.images`` with the file's ``redact:`` rectangles painted black: never the original's
pixels. Only files that inventory accepted are ever looked up, by their case-relative path.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from werkzeug.datastructures import FileStorage

from evidencekit.cache import DisplayCache
from evidencekit.case.edit import format_time, set_evidence_fields
from evidencekit.case.folder import add_files
from evidencekit.case.inventory import evidence_folder_names, nfc_name, walk_tree
from evidencekit.case.load import CASE_FILE_NAMES
from evidencekit.errors import CaseFileError, EvidenceKitError
from evidencekit.fsutil import create_new_fd, make_dirs
from evidencekit.media.base import MediaContext
from evidencekit.model import EvidenceKind, ImageInspection, Target, display_images
from evidencekit.output import work_folder
from evidencekit.rules.catalog import load_rules, megabytes_text, target_profile
from evidencekit.web.responses import public_message
from evidencekit.web.security import MAX_UPLOAD_BYTES
from evidencekit.web.workspace import case_root, clean_case_name

if TYPE_CHECKING:
    from evidencekit.buildtypes import Assessment
    from evidencekit.model import Exhibit

bp = Blueprint("evidence", __name__)

# A stranger's upload is bounded three ways: the request body (EK_MAX_UPLOAD, checked by the app
# before a byte is parsed), each file (EK_MAX_FILE, default the same) and the number of files.
MAX_UPLOAD_FILES = 50
MAX_NAME_BYTES = 180  # a sanitised name in UTF-8, suffix included: ext4 allows 255, `add` may add "-2"
MAX_SUFFIX_CHARS = 12
MAX_REDACT_RECTS = 200
MAX_MOMENTS = 200
MAX_FIELD_CHARS = 2000
ASSESSMENT_TTL_S = 60.0  # deadlines move with the clock; file and case.yaml changes are seen at once
_CACHE_SIZE = 16

_FIELD_KEYS = ("title", "proves", "time", "moments")


# ---------------------------------------------------------------------------------------------
# Shared by the evidence and build pages
# ---------------------------------------------------------------------------------------------


def chosen_target() -> Target:
    """``?target=`` (or a JSON body's ``target``) as a Target; the general one otherwise."""
    value = request.args.get("target") or (request.get_json(silent=True) or {}).get("target") or ""
    try:
        return Target(str(value))
    except ValueError:
        return Target.GENERAL


def target_choices() -> list[tuple[str, str]]:
    rules = load_rules()
    return [(t.value, target_profile(t, rules).label) for t in Target]


@dataclass
class _Cached:
    signature: tuple[Any, ...]
    made: float
    assessment: Assessment


_cache: dict[tuple[str, str], _Cached] = {}
_cache_lock = threading.Lock()


def folder_signature(root: Path) -> tuple[Any, ...]:
    """What changes when case.yaml or any evidence file does: names, sizes, times, inodes.
    One walk (the inventory's own, so it is bounded the same way), no file is read."""
    parts: list[Any] = []
    for name in CASE_FILE_NAMES:
        with contextlib.suppress(OSError):
            st = os.lstat(root / name)
            parts.append((name, st.st_size, st.st_mtime_ns, st.st_ino))
    covered: list[str] = []
    for name in evidence_folder_names(root):
        for entry in walk_tree(root / name, root.resolve(), (nfc_name(name),), covered):
            try:
                st = os.lstat(entry.to_open)
                parts.append(("/".join(entry.rel), entry.refused, st.st_size, st.st_mtime_ns, st.st_ino))
            except OSError:
                parts.append(("/".join(entry.rel), entry.refused))
    return tuple(parts)


def assessment_for(root: Path, target: Target) -> Assessment:
    """``check``'s assessment of the case (OCR off), recomputed when the folder changed."""
    from evidencekit.pipeline import BuildOptions, assess_case

    key = (str(root), target.value)
    signature = folder_signature(root)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit.signature == signature and time.monotonic() - hit.made < ASSESSMENT_TTL_S:
        return hit.assessment
    assessment = assess_case(root, BuildOptions(target=target, ocr=False))
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = _Cached(signature, time.monotonic(), assessment)
    return assessment


def selfcheck_data(root: Path, target: Target) -> dict[str, Any]:
    """``check --json`` of the case: the checklist, the to-dos, the files to look at again."""
    from evidencekit.pipeline import checklist_complete_for
    from evidencekit.report import check_report

    a = assessment_for(root, target)
    data = check_report(a, target, checklist_complete_for(a, strict=False), datetime.now(UTC))
    data["target_label"] = target_profile(target, load_rules()).label
    return data


# ---------------------------------------------------------------------------------------------
# The evidence page
# ---------------------------------------------------------------------------------------------


@bp.get("/case/<name>/evidence")
def index(name: str) -> Any:
    root = case_root(name)
    rules = load_rules()
    context: dict[str, Any] = {"case_name": name, "error": "", "groups": [], "refused": [],
                               "targets": target_choices(), "target": chosen_target().value,
                               "max_upload": upload_limits()[1], "max_files": MAX_UPLOAD_FILES}
    try:
        a = assessment_for(root, chosen_target())
    except EvidenceKitError as exc:
        context["error"] = public_message(exc)
    else:
        rows = [exhibit_row(name, ex, a) for ex in a.exhibits]
        context["groups"] = [
            {"kind": kind.value, "label": rules.kinds[kind.value].label,
             "folder": f"evidence/{kind.value}/", "rows": [r for r in rows if r["kind"] == kind.value]}
            for kind in EvidenceKind]
        context["refused"] = [{"path": r.rel_path, "reason": r.reason} for r in a.inventory.refused]
    template = "evidence_list.html" if request.args.get("fragment") else "evidence.html"
    return render_template(template, **context)


def exhibit_row(name: str, ex: Exhibit, a: Assessment) -> dict[str, Any]:
    """One file as the page shows it: number, hash, resolved time and source, its fields."""
    o = a.case.override_for(ex.source.rel_path)
    stamp = ex.stamp
    insp = ex.inspection
    row: dict[str, Any] = {
        "number": ex.number, "file": ex.source.rel_path, "name": ex.source.name, "kind": ex.kind.value,
        "sha256": ex.source.sha256, "size": ex.source.size,
        "time": stamp.format_time() if stamp.time is not None else "",
        "time_phrase": load_rules().time_sources.phrase_for(stamp),
        "title": o.title if o else "", "proves": o.proves if o else "",
        "declared_time": format_time(o.time, a.case.tz) if o and o.time else "",  # as case.yaml writes it
        "moments": "\n".join(o.moments) if o else "",
        "redact": [list(r) for r in o.redact] if o else [],
        "image": isinstance(insp, ImageInspection) and bool(insp.images),
        "width": getattr(insp, "width", None), "height": getattr(insp, "height", None),
        "preview_error": insp.preview_error,
        "findings": [f.message for f in insp.findings],
        "segments": segment_map(name, ex),
    }
    return row


def segment_map(name: str, ex: Exhibit) -> list[dict[str, Any]]:
    """Each display copy with the rows of the upright original it shows (for drawing on it)."""
    from evidencekit.media.images import plan_layout

    images = display_images(ex.inspection)
    out: list[dict[str, Any]] = []
    insp = ex.inspection
    tops: list[tuple[float, float]] | None = None
    if isinstance(insp, ImageInspection) and insp.width and insp.height and images:
        if len(images) == 1:
            tops = [(0.0, float(insp.height))]
        else:
            layout = plan_layout(insp.width, insp.height, _exhibit_box())
            if len(layout.segments) == len(images) and not layout.needed:
                scale = insp.height / layout.size[1]
                tops = [(top * scale, bottom * scale) for top, bottom in layout.segments]
    for i, image in enumerate(images):
        top, bottom = tops[i] if tops else (None, None)
        # The copy's hash in the address: a browser reuses an image it has by address alone.
        url = f"/case/{name}/evidence/preview/{ex.number}/{i}?v={image.sha256[:16]}"
        out.append({"url": url, "width": image.width,
                    "height": image.height, "top": top, "bottom": bottom, "caption": image.caption})
    return out


@functools.cache
def _exhibit_box() -> tuple[int, int]:
    """The exhibit box in display-copy pixels at the dossier's default resolution."""
    from evidencekit.pipeline import BuildOptions

    return MediaContext(cache=DisplayCache(), dpi=BuildOptions().dpi).box_pixels()


def find_exhibit(a: Assessment, rel_path: str) -> Exhibit | None:
    return next((ex for ex in a.exhibits if ex.source.rel_path == rel_path), None)


@bp.get("/case/<name>/evidence/preview/<int:number>/<int:segment>")
def preview(name: str, number: int, segment: int) -> Any:
    """A display copy (as the dossier embeds it, redactions painted) of an accepted file."""
    root = case_root(name)
    try:
        a = assessment_for(root, Target.GENERAL)
    except EvidenceKitError:
        abort(404)
    ex = next((e for e in a.exhibits if e.number == number), None)
    images = display_images(ex.inspection) if ex is not None else ()
    if not 0 <= segment < len(images):
        abort(404)
    image = images[segment]
    # Our own cache file, checked against the hash the dossier's appendix lists.
    data = _read_display_copy(image.path, image.sha256)
    if data is None:
        abort(404)
    kind = "image/png" if image.path.suffix == ".png" else "image/jpeg"
    return current_app.response_class(data, mimetype=kind, headers={"Cache-Control": "no-store"})


def _read_display_copy(path: Path, sha256: str) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


# ---------------------------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------------------------


def upload_limits() -> tuple[int, int]:
    """(per request, per file) in bytes, from the app's config."""
    whole = int(current_app.config.get("EK_MAX_UPLOAD") or MAX_UPLOAD_BYTES)
    return whole, int(current_app.config.get("EK_MAX_FILE") or whole)


def safe_file_name(raw: str, fallback: str = "文件") -> str:
    """A stranger's file name made safe to create inside evidence/<kind>/: no folder parts, then
    the stem and the suffix cleaned as a case name is (no control or format characters, none that
    Windows refuses, no leading dots: no hidden names), at most MAX_NAME_BYTES bytes in UTF-8."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", raw or ""))[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem.strip(". ") or len(suffix) > MAX_SUFFIX_CHARS:
        stem, suffix = base, ""
    suffix = f".{clean_case_name(suffix)}" if clean_case_name(suffix) else ""
    stem = clean_case_name(stem) or fallback
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    while len(stem.encode("utf-8")) > budget:  # at most MAX_NAME_BYTES rounds
        stem = stem[:-1]
    return f"{stem.rstrip('. ') or fallback}{suffix}"


@bp.post("/case/<name>/evidence/upload")
def upload(name: str) -> Any:
    """Files dropped on a kind: copied byte for byte into evidence/<kind>/ (``add``'s rules:
    never overwriting, the same file twice is kept once, case.yaml numbered), then shown with
    the SHA-256 and the resolved time and its source."""
    root = case_root(name)
    whole, per_file = upload_limits()
    if request.content_length is not None and request.content_length > whole:
        return _too_large(whole)
    kind = request.form.get("kind", "")
    if kind not in {k.value for k in EvidenceKind}:
        return jsonify(ok=False, error=f"证据类别 {kind} 不存在"), 400
    files = [f for f in request.files.getlist("files") if f.filename]
    if not files:
        return jsonify(ok=False, error="没有收到文件"), 400
    if len(files) > MAX_UPLOAD_FILES:
        return jsonify(ok=False, error=f"一次最多上传 {MAX_UPLOAD_FILES} 个文件"), 400
    mtimes = request.form.getlist("mtime")
    with work_folder() as work:
        staged: list[Path] = []
        for i, storage in enumerate(files):
            folder = Path(work) / str(i)  # one folder each: two uploads may share a name
            make_dirs(folder, Path(work), what="临时文件夹")
            path = folder / safe_file_name(storage.filename or "")
            if _stage(storage, path, per_file) is None:
                return _too_large(per_file)
            _keep_time(path, mtimes[i] if i < len(mtimes) else "")
            staged.append(path)
        try:
            added = add_files(root, staged, kind)
        except EvidenceKitError as exc:
            return jsonify(ok=False, error=public_message(exc)), 400
    try:
        a = assessment_for(root, Target.GENERAL)
    except EvidenceKitError as exc:  # the files are in; case.yaml has a problem the page shows
        return jsonify(ok=True, files=[{"file": rel} for rel in added], error=public_message(exc))
    shown = []
    for rel in added:
        ex = find_exhibit(a, rel)
        if ex is not None:
            row = exhibit_row(name, ex, a)
            shown.append({k: row[k] for k in ("number", "file", "name", "sha256", "size", "time", "time_phrase")})
        else:
            refused = next((r.reason for r in a.inventory.refused if r.rel_path == rel), "未列入证据")
            shown.append({"file": rel, "error": refused})
    return jsonify(ok=True, files=shown)


def _stage(storage: FileStorage, path: Path, limit: int) -> int | None:
    """The upload's bytes, exactly, into ``path`` (a new file of our own, in the private work
    folder); None, and no file, when it is over ``limit``."""
    size = 0
    with os.fdopen(create_new_fd(path, what="上传的文件"), "wb") as out:
        while chunk := storage.stream.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    if size > limit:
        path.unlink()
        return None
    return size


def _keep_time(path: Path, millis: str) -> None:
    """The browser's File.lastModified as the copy's time: for many files the only time they
    carry (``add`` keeps it the same way). Nonsense is ignored."""
    if not re.fullmatch(r"\d{1,15}", millis or ""):
        return
    seconds = int(millis) / 1000
    if 0 < seconds < 4_102_444_800:  # before 2100
        os.utime(path, (seconds, seconds))


def _too_large(limit: int) -> Any:
    return jsonify(ok=False, error=f"上传的文件过大（上限 {megabytes_text(limit)}）"), 413


# ---------------------------------------------------------------------------------------------
# Per-file fields and redaction
# ---------------------------------------------------------------------------------------------


@bp.post("/case/<name>/evidence/fields")
def save_fields(name: str) -> Any:
    """title / proves / time / moments of one file into its case.yaml entry (comments kept);
    the loader's messages come back by field."""
    root = case_root(name)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(ok=False, error="请求格式不对"), 400
    rel = _known_file(root, body.get("file"))
    a = _assessment_or_abort(root)
    ex = find_exhibit(a, rel)
    current = exhibit_row(root.name, ex, a) if ex is not None else {}
    fields: dict[str, Any] = {}
    for key in _FIELD_KEYS:
        if key not in body:
            continue
        value = body[key]
        if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
            return jsonify(ok=False, errors={key: f"{key} 应为不超过 {MAX_FIELD_CHARS} 字的文字"}), 400
        if key == "moments":
            lines = [line.strip() for line in value.splitlines() if line.strip()]
            if len(lines) > MAX_MOMENTS:
                return jsonify(ok=False, errors={key: f"最多 {MAX_MOMENTS} 个时间点"}), 400
            if lines != current.get("moments", "").splitlines():
                fields[key] = lines
            continue
        text = " ".join(value.split()) if key != "proves" else value.strip()
        # Only what the shopper changed is written: an untouched empty field adds no key.
        if text != current.get("declared_time" if key == "time" else key, ""):
            fields[key] = text
    if not fields:
        return jsonify(ok=True, row=current or None)
    return _write_fields(root, rel, fields)


@bp.post("/case/<name>/evidence/redact")
def save_redact(name: str) -> Any:
    """The rectangles drawn on an image, in the original's upright pixels, as ``redact:``."""
    root = case_root(name)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(ok=False, error="请求格式不对"), 400
    rel = _known_file(root, body.get("file"))
    rects = body.get("rects")
    if not isinstance(rects, list) or len(rects) > MAX_REDACT_RECTS:
        return jsonify(ok=False, errors={"redact": f"遮盖区域应为不超过 {MAX_REDACT_RECTS} 个的列表"}), 400
    clean = []
    for rect in rects:
        if not (isinstance(rect, list) and len(rect) == 4 and all(isinstance(n, int | float) for n in rect)):
            return jsonify(ok=False, errors={"redact": "每个遮盖区域应为 [x, y, 宽, 高] 四个数"}), 400
        x, y, w, h = (max(0, min(9_999_999, round(n))) for n in rect)
        if w > 0 and h > 0:
            clean.append([x, y, w, h])
    return _write_fields(root, rel, {"redact": clean})


def _known_file(root: Path, rel: Any) -> str:
    """``rel`` when it is a file the inventory accepted; otherwise the request is refused."""
    a = _assessment_or_abort(root)
    if not isinstance(rel, str) or find_exhibit(a, rel) is None:
        abort(404, description="没有这个证据文件")
    return rel


def _assessment_or_abort(root: Path) -> Assessment:
    try:
        return assessment_for(root, Target.GENERAL)
    except EvidenceKitError as exc:
        abort(409, description=public_message(exc))


def _write_fields(root: Path, rel: str, fields: dict[str, Any]) -> Any:
    try:
        set_evidence_fields(root, rel, fields)
    except CaseFileError as exc:
        errors: dict[str, str] = {}
        for p in exc.problems:
            m = re.match(r"evidence\[\d+\]\.(\w+)", p.key_path)
            field = m.group(1) if m else ""
            errors[field] = (errors.get(field, "") + "；" if field in errors else "") + p.render()
        return jsonify(ok=False, errors=errors, error=public_message(exc)), 400
    except EvidenceKitError as exc:
        return jsonify(ok=False, error=public_message(exc)), 400
    a = _assessment_or_abort(root)
    ex = find_exhibit(a, rel)
    return jsonify(ok=True, row=exhibit_row(root.name, ex, a) if ex is not None else None)


# ---------------------------------------------------------------------------------------------
# Self-check
# ---------------------------------------------------------------------------------------------


@bp.get("/case/<name>/selfcheck")
def selfcheck(name: str) -> Any:
    """The self-check as a page, or (``?format=json``) the JSON the other pages' panels read."""
    root = case_root(name)
    target = chosen_target()
    try:
        data = selfcheck_data(root, target)
    except EvidenceKitError as exc:
        if request.args.get("format") == "json":
            return jsonify(error=public_message(exc)), 409
        return render_template("selfcheck.html", case_name=name, error=public_message(exc), data=None,
                               targets=target_choices(), target=target.value)
    if request.args.get("format") == "json":
        return jsonify(data)
    return render_template("selfcheck.html", case_name=name, error="", data=data, targets=target_choices(),
                           target=target.value)
