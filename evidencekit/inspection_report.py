"""`evidencekit inspect`: what evidencekit reads from single files, without a case or a build.

Files may be anywhere. Each is hashed and checked exactly as the inventory does (read-only,
O_NOFOLLOW, regular files only, links refused), inspected by the same media dispatch and dated
by the same ``timeinfo.date_inspection`` as `build`, so `inspect` and the dossier cannot disagree.
The JSON shape (``to_json``) is a stable interface: keys are only ever added.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from evidencekit.cache import DisplayCache
from evidencekit.case.inventory import hash_file, mtime_of, nfc_name, special_reason
from evidencekit.errors import InspectionRefused, NotRegularError
from evidencekit.media.base import MediaContext
from evidencekit.media.dispatch import inspect_source
from evidencekit.media.ocr import ocr_unavailable_reason
from evidencekit.media.pool import inspect_one
from evidencekit.model import (
    SHANGHAI,
    Case,
    EvidenceKind,
    FileIdentity,
    Finding,
    ImageInspection,
    Inspection,
    RecordingInspection,
    Severity,
    SourceFile,
    Stamp,
    TimeSource,
    transcript_of,
)
from evidencekit.pdf.exhibits import MEDIA_LABELS
from evidencekit.readfacts import ScreenRead, clock_findings, read_screen, visible_times
from evidencekit.rules.catalog import load_rules
from evidencekit.rules.ocr_fields import load_ocr_fields
from evidencekit.timeinfo import date_inspection

LINK_REASON = "是符号链接，出于安全考虑不读取；请直接给出它指向的文件"
MISSING_REASON = "文件不存在"
UNREADABLE_REASON = "没有读取权限，无法读取此文件"
FOLDER_REASON = "是文件夹，不是文件；请给出其中的文件（例如 文件夹/*）"


@dataclass(frozen=True)
class FileReport:
    """What was read from one file, or why it could not be read (``error``)."""

    file: str  # as given on the command line
    source: SourceFile | None = None
    inspection: Inspection | None = None
    stamp: Stamp | None = None
    findings: tuple[Finding, ...] = ()
    error: str = ""
    screen: ScreenRead | None = None  # what OCR read on a still image (readfacts.py)

    def to_json(self) -> dict[str, Any]:
        if self.error or self.source is None or self.inspection is None or self.stamp is None:
            return {"file": self.file, "error": self.error}

        insp, stamp = self.inspection, self.stamp
        out: dict[str, Any] = {
            "file": self.file,
            "name": self.source.name,
            "size": self.source.size,
            "sha256": self.source.sha256,
            "media": insp.media.value,
            "time": _iso(stamp.time),
            "time_source": stamp.source.value,
            "time_detail": stamp.detail,
            "time_phrase": load_rules().time_sources.phrase_for(stamp),
            "findings": [{"code": f.code, "message": f.message, "severity": f.severity.value}
                         for f in self.findings],
            "preview": not insp.preview_error,
        }
        if self.screen is not None:
            out["visible_time"] = self.screen.clock or None
            out["read"] = [{"field": f.field, "name": f.name, "value": f.value} for f in self.screen.facts]
        if isinstance(insp, RecordingInspection) and insp.duration is not None:
            out["duration"] = insp.duration
        if (t := transcript_of(insp)) is not None:
            out["format"] = t.format
            out["encoding"] = t.encoding
            out["messages"] = [{"time": _iso(m.time), "speaker": m.speaker, "side": m.side, "text": m.text}
                               for m in t.messages]
        return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def source_file_for(path: Path, tz: tzinfo = SHANGHAI) -> tuple[SourceFile, tuple[Finding, ...]]:
    """A hashed SourceFile for a file anywhere, checked as the inventory checks evidence/.

    Raises InspectionRefused for a missing or unreadable file, a link, or anything not a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError as exc:
        raise InspectionRefused(MISSING_REASON) from exc
    except OSError as exc:
        raise InspectionRefused(f"无法读取（{exc.strerror or exc}）") from exc
    if stat.S_ISLNK(mode):
        raise InspectionRefused(LINK_REASON)
    if stat.S_ISDIR(mode):
        raise InspectionRefused(FOLDER_REASON)
    if not stat.S_ISREG(mode):
        raise InspectionRefused(special_reason(mode))
    try:
        sha256, size, (st, after) = hash_file(path)  # O_NOFOLLOW, checked regular after opening
    except NotRegularError as exc:
        raise InspectionRefused(special_reason(exc.mode)) from exc
    except PermissionError as exc:
        raise InspectionRefused(UNREADABLE_REASON) from exc
    except OSError as exc:
        raise InspectionRefused(LINK_REASON if os.path.islink(path) else f"无法读取此文件（{exc.strerror or exc}）") from exc
    name = nfc_name(path.name)
    findings: tuple[Finding, ...] = ()
    if size != st.st_size or FileIdentity.of(after) != FileIdentity.of(st):
        findings = (Finding(Severity.WARNING, "inventory.changed_while_reading",
                            f"读取「{name}」时文件发生了变化，请确认没有程序正在写入该文件后重试", name),)
    source = SourceFile(rel_path=name, path=path, size=size, sha256=sha256, mtime=mtime_of(st, tz),
                        kind=EvidenceKind.OTHER, kind_from_folder=False, identity=FileIdentity.of(st))
    return source, findings


def time_findings(name: str, stamp: Stamp) -> tuple[Finding, ...]:
    """The same warnings `check` gives for a weak or missing time (timeinfo.time_findings)."""
    if stamp.source is TimeSource.MTIME:
        return (Finding(Severity.WARNING, "time.mtime_only",
                        f"{name} 只有文件修改时间，复制或同步后可能已改变，证明力弱", name),)
    if stamp.source is TimeSource.NONE:
        return (Finding(Severity.WARNING, "time.unknown", f"{name} 无法确定拍摄/截图时间", name),)
    return ()


def inspect_files(paths: Sequence[Path], tz: tzinfo = SHANGHAI, now: datetime | None = None,
                  cache_dir: Path | None = None, ocr: bool = True) -> list[FileReport]:
    """One report per path, in order; a file that cannot be read gets ``error`` instead. With
    ``ocr`` and the OCR extra installed, still images are read too (the status bar's clock, the facts)."""

    now = now or datetime.now(UTC)
    ctx = MediaContext(cache=DisplayCache(cache_dir), tz=tz)
    reports: list[FileReport] = []
    for path in paths:
        given = str(path)
        try:
            source, found = source_file_for(Path(path), tz)
        except InspectionRefused as exc:
            reports.append(FileReport(given, error=exc.reason))
            continue
        case = Case(root=Path(path).parent, has_case_file=False, tz=tz)
        insp = inspect_one(source, case, ctx, inspect_source)  # one bad file is a finding
        stamp, insp = date_inspection(source, insp, None, tz, now)
        findings = found + insp.findings + time_findings(source.name, stamp)
        screen = None
        # A camera's shutter time in EXIF: a photo, not a screenshot; its text is not worth seconds of OCR.
        screenshot = isinstance(insp, ImageInspection) and not insp.preview_error and stamp.source is not TimeSource.EXIF
        if ocr and screenshot and ocr_unavailable_reason() is None:
            rules = load_ocr_fields()
            screen = read_screen(source, insp, ctx, rules)
            findings += tuple(clock_findings(source.name, stamp, screen, tz, rules.screens.tolerance_minutes))
        reports.append(FileReport(given, source, insp, stamp, findings, screen=screen))
    return reports


def format_reports(reports: Sequence[FileReport]) -> str:
    """Plain text for the terminal: per file its type, time with source and findings."""

    phrases = load_rules().time_sources
    lines: list[str] = []
    for r in reports:
        lines.append(r.file)
        if r.error or r.inspection is None or r.stamp is None:
            lines.append(f"  无法读取：{r.error}")
            continue
        insp, stamp = r.inspection, r.stamp
        lines.append(f"  类型：{MEDIA_LABELS[insp.media]}")
        shown = f"；截图上的时间：{'、'.join(visible_times(r.screen)) or '无'}" if r.screen is not None else ""
        lines.append(f"  时间：{stamp.format_time()}　{phrases.phrase_for(stamp)}{shown}")
        lines.append(f"  来源：{stamp.source.value}（{stamp.source.label}）" + (f"：{stamp.detail}" if stamp.detail else ""))
        for f in r.findings:
            lines.append(f"  注意：{f.message}（{f.code}）")
        if (t := transcript_of(insp)) is not None:
            lines.append(f"  聊天记录：格式 {t.format}，编码 {t.encoding}，共 {len(t.messages)} 条消息")
            for m in t.messages:
                when = m.time.isoformat() if m.time else "无时间"
                text = m.text.replace("\n", " ⏎ ")
                lines.append(f"    {when} [{m.side}] {m.speaker}：{text}")
    return "\n".join(lines)
