"""The whole product on one screen: case folder in, dossier PDF out.

    build_dossier():  load → inventory → inspect → timeline → checklist → manifest → render
                      → attach → publish

Each stage is a function of the previous stage's values. One bad file becomes a recorded
finding, never a crash; the only step that touches the user's output path is ``publish``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from evidencekit import __version__
from evidencekit.cache import DisplayCache
from evidencekit.case.inventory import EVIDENCE_FOLDER_NAMES, Inventory, scan_evidence
from evidencekit.case.load import CASE_FILE_NAMES, load_case
from evidencekit.errors import ChecklistIncomplete, OutputError, TokenFileRefused, UsageError
from evidencekit.fsutil import (
    disk_full_error,
    is_disk_full,
    is_inside,
    refuse_special,
    resolve_output_path,
    write_atomically,
)
from evidencekit.integrity.manifest import build_manifest, fingerprint
from evidencekit.integrity.tsa import inspect_token, read_token_file, token_path_for
from evidencekit.media.base import MAX_EXHIBIT_PAGES, MediaContext
from evidencekit.media.dispatch import inspect_source
from evidencekit.media.moments import with_wall_times
from evidencekit.model import (
    Case,
    ChecklistItem,
    Dossier,
    EvidenceKind,
    EvidenceOverride,
    Exhibit,
    Finding,
    Inspection,
    MediaType,
    Severity,
    SourceFile,
    Stamp,
    Status,
    TimeSource,
)
from evidencekit.privacy import mask_case, mask_exhibit
from evidencekit.rules.catalog import (
    advice_for,
    build_checklist,
    checklist_complete,
    dossier_title,
    exhibit_title,
    legal_bases,
    load_rules,
    platform_display_name,
    statutory_amounts,
    urgency_for,
)
from evidencekit.rules.filename_times import is_save_time
from evidencekit.timeinfo import resolve_capture_time, time_from_filename
from evidencekit.timeline import build_timeline

DEFAULT_ATTACH_LIMIT = 50 * 1024 * 1024

Progress = Callable[[int, int, str], None]  # (done, total, current file)

PARALLEL_MIN_FILES = 6  # fewer files left than this are not worth a worker pool
SLOW_INSPECTION_S = 0.02  # a cache hit takes about 1 ms; a real decode 30–100 ms


def available_cpus() -> int:
    """CPUs this process may use (respects affinity masks and container limits on Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class BuildOptions:
    target: str = "general"
    output: Path | None = None
    force: bool = False
    reproducible: bool = False
    strict: bool = False  # refuse to build while anything is missing or weak (exit 6)
    font: Path | None = None
    attach_originals: bool = True
    attach_limit: int = DEFAULT_ATTACH_LIMIT
    mask_personal: bool = False  # hide phone/ID/address in generated text (public postings)
    jobs: int = 0  # worker processes for display copies; 0 = one per available CPU
    cache_dir: Path | None = None
    dpi: int = 150  # display-copy resolution; `pack` lowers it to fit a channel's size limit
    max_exhibit_pages: int = MAX_EXHIBIT_PAGES  # pages one chat transcript or long screenshot may fill
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Assessment:
    """Everything short of rendering: what `check` needs and what `build` renders."""

    case: Case
    inventory: Inventory
    exhibits: tuple[Exhibit, ...]
    checklist: tuple[ChecklistItem, ...]
    findings: tuple[Finding, ...]
    # What to do next, from templates/ (rules.advice_for): for the shopper, not the dossier.
    advice: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildResult:
    output: Path
    dossier: Dossier
    page_count: int
    size: int
    findings: tuple[Finding, ...]
    # Where the renderer put each part (1-based pages): what pack cuts and pictures by.
    exhibit_pages: dict[int, tuple[int, int]] = field(default_factory=dict)  # number -> (first, last)
    section_pages: dict[str, int] = field(default_factory=dict)  # section name -> first page


def checklist_complete_for(a: Assessment, strict: bool) -> bool:
    """Complete = nothing required is missing; with strict, nothing is weak and no warnings."""
    if not checklist_complete(a.checklist, strict):
        return False
    return not (strict and any(f.severity is not Severity.INFO for f in a.findings))


def incomplete_summary(a: Assessment, strict: bool) -> str:
    lines = [f"  ✗ {i.label}：{i.reason}" for i in a.checklist if i.required and i.status is Status.MISSING]
    if strict:
        lines += [f"  ! {i.label}：{i.reason}" for i in a.checklist if i.status is Status.WEAK]
        lines += [f"  ! {f.message}" for f in a.findings if f.severity is not Severity.INFO]
    return "\n".join(lines)



# ---------------------------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------------------------


def assess_case(root: Path, options: BuildOptions, progress: Progress | None = None,
                case: Case | None = None) -> Assessment:
    """Steps 1–5: everything `check` reports, without drawing a page."""
    if case is None:
        case = load_case(root)  # 1 load (exit 3 on a bad case.yaml)
    inventory = scan_evidence(case.root, case.tz)  # 2 inventory: hash first
    ctx = MediaContext(
        cache=DisplayCache(options.cache_dir), tz=case.tz, dpi=options.dpi,
        max_exhibit_pages=options.max_exhibit_pages,
        # Chat exports decide who is the shopper and who the merchant from the case's names.
        chat_self_names=tuple(n for n in (case.complainant.name,) if n),
        chat_merchant_names=tuple(
            n for n in (case.merchant.shop_name, case.merchant.company, case.livestream.host) if n),
    )
    exhibits = inspect_all(case, inventory.files, ctx, options, progress)  # 3 inspect + time
    rules = load_rules()
    checklist = build_checklist(case, exhibits, options.target, rules, now=options.now)  # 4 checklist
    # A kind declared in case.yaml settles what the folder could not tell.
    declared = {e.file for e in case.evidence if e.kind is not None}
    findings = tuple(f for f in inventory.findings if not (f.code == "kind.unknown_folder" and f.subject in declared))
    findings += tuple(f for ex in exhibits for f in ex.inspection.findings)
    findings += tuple(_time_findings(exhibits))
    ctx.cache.prune()
    return Assessment(case, inventory, exhibits, checklist, findings, advice_for(case, rules))


def build_dossier(root: Path, options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    case = load_case(root)  # a missing folder or bad case.yaml is reported before output problems
    output = resolve_output(root, options)
    check_output(output, root, options.force)  # fail before any work when the output is unusable
    assessment = assess_case(root, options, progress, case)
    if options.strict and not checklist_complete_for(assessment, strict=True):
        raise ChecklistIncomplete("证据或案件信息不完整（--strict），未生成证据材料：\n"
                                  + incomplete_summary(assessment, strict=True),
                                  hint="运行 evidencekit check 查看详情；补齐后重新生成，或去掉 --strict")
    if options.mask_personal:
        assessment = mask_assessment(assessment)
    dossier = assemble_dossier(assessment, options)  # 5 timeline, legal, manifest
    with work_folder() as work:
        rendered = Path(work) / "rendered.pdf"
        from evidencekit.pdf.render import render_dossier

        layout_cache = LayoutHints(DisplayCache(options.cache_dir), root.resolve(), options.target)
        result = render_dossier(dossier, rendered, reproducible=options.reproducible,  # 6 render
                                page_hint=layout_cache.load())
        layout_cache.save(result.pages, result.page_count)
        final = Path(work) / "final.pdf"
        from evidencekit.integrity.attach import attach_files

        token, token_findings = existing_token(output, dossier.manifest)

        attach_files(  # 7 attach originals + manifest
            rendered,
            final,
            exhibits=dossier.exhibits,
            manifest=dossier.manifest,
            attach_originals=dossier.originals_attached,
            reproducible=options.reproducible,
            when=dossier.generated_at,
            token=token,
        )
        publish(final, output, options.force)  # 8 the only write to the user's path
    findings = assessment.findings + result.findings + token_findings
    return BuildResult(output, dossier, result.page_count, output.stat().st_size, findings,
                       exhibit_pages=result.exhibit_ranges, section_pages=result.section_pages)


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------


def inspect_all(
    case: Case,
    files: Sequence[SourceFile],
    ctx: MediaContext,
    options: BuildOptions,
    progress: Progress | None = None,
) -> tuple[Exhibit, ...]:
    rules = load_rules()
    inspections = _inspect_files(case, files, ctx, options.jobs or available_cpus(), progress)

    kind_order = {k: i for i, k in enumerate(rules.kinds)}
    dated: list[tuple[SourceFile, Inspection, EvidenceKind, Stamp]] = []
    for src, insp in zip(files, inspections, strict=True):
        override = case.override_for(src.rel_path)
        kind = override.kind if override and override.kind else src.kind
        stamp, insp = date_inspection(src, insp, override, case.tz, options.now)
        dated.append((src, insp, kind, stamp))

    # The order an official reads: by kind (templates/evidence_kinds.yaml order: order, product,
    # livestream, chat, ...), then by capture time, then by path.
    far_future = datetime.max.replace(tzinfo=UTC)
    dated.sort(key=lambda d: (kind_order.get(d[2].value, 99), d[3].time or far_future, d[0].rel_path))

    exhibits: list[Exhibit] = []
    for number, (src, insp, kind, stamp) in enumerate(dated, start=1):
        override = case.override_for(src.rel_path)
        exhibits.append(
            Exhibit(
                number=number,
                source=src,
                kind=kind,
                title=(override.title if override and override.title
                       else exhibit_title(kind, rules, n=number, file_name=src.name, product=case.order.product)),
                proves=(override.proves if override and override.proves else rules.kinds[kind.value].proves),
                note=override.note if override else "",
                stamp=stamp,
                inspection=insp,
            )
        )
    return tuple(exhibits)


def date_inspection(src: SourceFile, insp: Inspection, override: EvidenceOverride | None, tz: tzinfo,
                    now: datetime) -> tuple[Stamp, Inspection]:
    """The capture time of one inspected file, and its inspection with wall-clock frame times.

    The one place a time is chosen: `build`, `check` and `inspect` all come through here, so
    they cannot disagree."""
    stamp = resolve_capture_time(
        declared=override.time if override else None,
        embedded=insp.embedded_time,
        filename=time_from_filename(src.name, tz, not_after=now),
        mtime=src.mtime,
    )
    stamp = _chat_content_time(stamp, insp)
    if insp.media in (MediaType.VIDEO, MediaType.AUDIO) and stamp.time is not None:
        # Only a time that marks when recording began gives true wall-clock times; a chat
        # app's save time (mmexport…) is merely an upper bound.
        starts = stamp.source in (TimeSource.DECLARED, TimeSource.FILENAME, TimeSource.CONTAINER)
        start = stamp.time if starts and not is_save_time(stamp) else None
        insp = with_wall_times(insp, start)
    return stamp, insp


def _chat_content_time(stamp: Stamp, insp: Inspection) -> Stamp:
    """A chat export's own message times beat a file-modification time: the export's first
    message is when the conversation it proves began."""
    if not stamp.source.weak or insp.transcript is None:
        return stamp
    times = [m for m in insp.transcript.messages if m.time is not None]
    if not times:
        return stamp
    first = min(times, key=lambda m: m.time)  # type: ignore[arg-type,return-value]
    return Stamp(first.time, TimeSource.CONTENT, "聊天记录中第一条消息的时间", has_seconds=first.has_seconds)


def _inspect_one(src: SourceFile, case: Case, ctx: MediaContext, inspect_source: Callable[..., Inspection]
                 ) -> Inspection:
    override = case.override_for(src.rel_path)
    try:
        return inspect_source(src, override, ctx)
    except Exception as exc:  # one bad file is a finding, never the end of the build
        reason = f"处理此文件时出错（{type(exc).__name__}），未生成预览；原件已计算哈希并附上"
        return Inspection(
            media=MediaType.UNKNOWN,
            preview_error=reason,
            findings=(Finding(Severity.WARNING, "media.failed", reason, src.rel_path),),
        )


def _inspect_files(case: Case, files: Sequence[SourceFile], ctx: MediaContext, jobs: int,
                   progress: Progress | None) -> list[Inspection]:
    """Inspect in order, inline while files come from the display-copy cache; as soon as one
    needs real decoding, hand the rest to ``jobs`` worker processes. A warm rebuild thus never
    pays for starting a pool, and a cold build spreads the decoding over the cores."""

    total = len(files)
    results: list[Inspection | None] = [None] * total
    i = 0
    while i < total:
        if progress:
            progress(i, total, files[i].rel_path)
        started = time.perf_counter()
        results[i] = _inspect_one(files[i], case, ctx, inspect_source)
        i += 1
        slow = time.perf_counter() - started > SLOW_INSPECTION_S
        if slow and jobs > 1 and total - i >= PARALLEL_MIN_FILES:
            break
    if i < total:
        pool = ProcessPoolExecutor(max_workers=min(jobs, total - i))
        try:
            futures = {pool.submit(_inspect_one, files[k], case, ctx, inspect_source): k for k in range(i, total)}
            for done, fut in enumerate(as_completed(futures), start=i + 1):
                k = futures[fut]
                results[k] = fut.result()
                if progress:
                    progress(done, total, files[k].rel_path)
        except BaseException:
            stop_workers(pool)
            raise
        pool.shutdown()
    if progress:
        progress(total, total, "")
    return [r for r in results if r is not None]


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool at once (an error, Ctrl-C, SIGTERM): queued work is cancelled and the worker
    processes are terminated, never left running as orphans. Leaving the ``with`` block instead
    would first wait for every queued file to be decoded."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)


def _time_findings(exhibits: Sequence[Exhibit]) -> list[Finding]:
    out = []
    for ex in exhibits:
        if ex.stamp.source is TimeSource.MTIME:
            out.append(Finding(Severity.WARNING, "time.mtime_only",
                               f"{ex.label} 只有文件修改时间，复制或同步后可能已改变，证明力弱", ex.source.rel_path))
        elif ex.stamp.source is TimeSource.NONE:
            out.append(Finding(Severity.WARNING, "time.unknown", f"{ex.label} 无法确定拍摄/截图时间",
                               ex.source.rel_path))
    return out


class LayoutHints:
    """The page map of this case's last build, so a rebuild can skip the measuring pass.

    Only a hint: the renderer checks it and lays out again if anything moved. Kept in the cache
    folder; any problem reading or writing it just means no hint."""

    def __init__(self, cache: DisplayCache, case_root: Path, target: str) -> None:
        key = hashlib.sha256(f"{case_root}|{target}".encode()).hexdigest()[:32]
        self.cache = cache
        self.path = cache.root / "layout" / f"{key}.json"

    def load(self) -> tuple[dict[str, int], int] | None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            pages = {str(k): int(v) for k, v in doc["pages"].items()}
            return pages, int(doc["total"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, pages: dict[str, int], total: int) -> None:
        with contextlib.suppress(OSError), self.cache.writing(self.path) as tmp:
            tmp.write_text(json.dumps({"pages": pages, "total": total}), encoding="utf-8")


def existing_token(output: Path, manifest: bytes) -> tuple[bytes | None, tuple[Finding, ...]]:
    """A `stamp` token saved beside the dossier goes inside the next build — if it still
    certifies this manifest (always the case for --reproducible rebuilds of unchanged evidence).

    The file is read only when it is a regular file, not a link, and at most MAX_TOKEN_BYTES."""
    path = token_path_for(output)
    if not os.path.lexists(path):
        return None, ()
    try:
        token = read_token_file(path)
    except TokenFileRefused as exc:
        return None, (Finding(Severity.WARNING, "stamp.refused", f"{exc.message}，未嵌入证据材料", path.name),)
    if inspect_token(token, manifest).digest_matches:
        return token, ()
    return None, (Finding(Severity.INFO, "stamp.stale",
                          f"{path.name} 是为旧版证据材料申请的时间戳，与本次清单不符，未嵌入；"
                          "需要时请重新运行 evidencekit stamp", path.name),)


def mask_assessment(a: Assessment) -> Assessment:
    self_names = tuple(n for n in (a.case.complainant.name,) if n)
    return replace(a, case=mask_case(a.case), exhibits=tuple(mask_exhibit(ex, self_names) for ex in a.exhibits))


def case_id_for(case: Case) -> str:
    seed = f"{case.order.number}|{case.root.name}"
    return "EK-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:8].upper()


# SOURCE_DATE_EPOCH (reproducible-builds.org) as whole seconds from 1970 up to 2100-01-01 UTC.
MAX_SOURCE_DATE_EPOCH = 4102444800


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH, validated; None when unset or empty. reportlab reads it too (even
    without --reproducible), so a bad value is a usage error before any output, never ignored."""
    text = os.environ.get("SOURCE_DATE_EPOCH")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_SOURCE_DATE_EPOCH:
        shown = text if len(text) <= 24 else text[:24] + "…"
        raise UsageError(f"环境变量 SOURCE_DATE_EPOCH 的值不可用：{shown!r}",
                         hint=f"应为 0 到 {MAX_SOURCE_DATE_EPOCH}（2100-01-01）之间的整数秒数（Unix 时间），"
                              "例如 1731600000；不需要时请删除这个环境变量")
    return int(text)


def generation_time(exhibits: Sequence[Exhibit], case: Case, options: BuildOptions) -> datetime:
    """The clock for the dossier. Under --reproducible it must come from the inputs:
    SOURCE_DATE_EPOCH when set, else the latest dated fact in the case (so the cover still shows
    a meaningful date), else the Unix epoch."""
    epoch = source_date_epoch()
    if not options.reproducible:
        return options.now.astimezone(case.tz).replace(microsecond=0)
    if epoch is not None:
        return datetime.fromtimestamp(epoch, case.tz)
    times = [ex.stamp.time for ex in exhibits if ex.stamp.time and ex.stamp.source is not TimeSource.MTIME]
    times += [e.time for e in case.events if e.time]
    if times:
        return max(times).astimezone(case.tz).replace(microsecond=0)
    return datetime.fromtimestamp(0, case.tz)


def assemble_dossier(a: Assessment, options: BuildOptions) -> Dossier:
    rules = load_rules()
    case = a.case
    case_id = case_id_for(case)
    generated_at = generation_time(a.exhibits, case, options)
    profile = rules.targets[options.target]
    platform = rules.platforms.get(case.platform) if case.platform else None
    reply_hours = platform.seller_reply_hours if platform else 48
    timeline = build_timeline(case, a.exhibits, timedelta(hours=reply_hours), rules.followup.channel_labels)
    manifest = build_manifest(
        case_id=case_id,
        target=options.target,
        exhibits=a.exhibits,
        refused=a.inventory.refused,
        generated_at=generated_at,
        tool_version=__version__,
    )
    total = sum(ex.source.size for ex in a.exhibits)
    problem = rules.problem_types.get(case.problem.type)
    return Dossier(
        case=case,
        case_id=case_id,
        target=options.target,
        title=dossier_title(case, options.target, rules),
        exhibits=a.exhibits,
        refused=a.inventory.refused,
        timeline=timeline,
        checklist=a.checklist,
        findings=a.findings,
        legal=legal_bases(case, rules),
        amounts=statutory_amounts(case, rules),
        generated_at=generated_at,
        tool_version=__version__,
        fingerprint=fingerprint(manifest),
        manifest=manifest,
        urgency=urgency_for(case, rules),
        section_order=tuple(profile.sections),
        originals_attached=options.attach_originals and total <= options.attach_limit,
        font_path=options.font,
        target_label=profile.label,
        kind_labels={k: v.label for k, v in rules.kinds.items()},
        kind_sources={k: v.source for k, v in rules.kinds.items()},
        problem_label=problem.label if problem else "",
        platform_label=platform_display_name(case, rules) if case.platform or case.platform_name else "",
        claim_labels=tuple(rules.claim_labels.get(c, c) for c in case.claims),
    )


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def work_folder() -> Iterator[str]:
    """The private work folder in TMPDIR that holds the rendered dossier until it is published.

    Removed on success, on any error, on Ctrl-C and on SIGTERM (the CLI turns SIGTERM into an
    exception, see cli/common.py). A full TMPDIR is an output problem (exit 5), not a crash."""
    try:
        with tempfile.TemporaryDirectory(prefix="evidencekit-") as work:
            yield work
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(tempfile.gettempdir(), exc, "临时文件") from exc
        raise


def resolve_output(root: Path, options: BuildOptions) -> Path:
    """The absolute output path (see :func:`fsutil.resolve_output_path`)."""
    if options.output is None:
        name = "dossier.pdf" if options.target == "general" else f"dossier-{options.target}.pdf"
        return root.resolve() / name
    return resolve_output_path(root, options.output, "输出文件")


def refuse_inside_evidence(out: Path, root: Path, what: str) -> None:
    """Refuse an output path in an evidence folder of the case: evidence/, 证据/ in any letter
    case, existing or not (the next build would walk it), and wherever a link among them points.
    ``build`` and ``pack`` both ask here."""
    def is_evidence(name: str) -> bool:
        return unicodedata.normalize("NFC", name).casefold() in EVIDENCE_FOLDER_NAMES

    case_root = root.resolve()
    folders: list[tuple[str, Path]] = []
    with contextlib.suppress(OSError), os.scandir(case_root) as entries:
        for entry in entries:
            if is_evidence(entry.name):
                folders += [(entry.name, case_root / entry.name), (entry.name, Path(os.path.realpath(entry.path)))]
    if is_inside(out, case_root) and out != case_root:
        first = out.relative_to(case_root).parts[0]
        if is_evidence(first):
            folders.append((first, case_root / first))
    for name, folder in folders:
        if is_inside(out, folder):
            raise OutputError(f"{what} {out} 位于 {name}/ 证据文件夹内；证据文件夹只放原件",
                              hint="用 -o 指定证据文件夹以外的位置")


def check_output(output: Path, root: Path, force: bool) -> None:

    refuse_inside_evidence(output, root, "输出文件")
    case_root = root.resolve()
    if is_inside(output, case_root) and output != case_root:
        parts = [unicodedata.normalize("NFC", p).casefold() for p in output.relative_to(case_root).parts]
        if len(parts) == 1 and parts[0] in CASE_FILE_NAMES:
            raise OutputError(f"输出文件 {output} 是案件文件 {output.name}，不能用证据材料覆盖它",
                              hint="用 -o 指定一个 .pdf 文件名")
    if os.path.isdir(output) and not os.path.islink(output):
        raise OutputError(f"输出路径 {output} 是一个文件夹", hint="用 -o 指定一个 .pdf 文件名")
    exists = refuse_special(output, "输出文件")  # a link or a device is refused even with --force
    if exists and not force:
        raise OutputError(f"输出文件 {output} 已存在", hint="加 --force 覆盖，或用 -o 指定另一个文件名")
    parent = output.parent
    if not parent.is_dir():
        raise OutputError(f"输出文件夹 {parent} 不存在", hint="先创建该文件夹，或用 -o 指定另一个位置")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"没有写入输出文件夹 {parent} 的权限", hint="用 -o 指定一个可写的位置")


def publish(src: Path, output: Path, force: bool) -> None:
    """Move the finished file into place atomically: the only write to the user's path."""
    if refuse_special(output, "输出文件") and not force:
        raise OutputError(f"输出文件 {output} 已存在", hint="加 --force 覆盖")
    write_atomically(output, src, what="输出文件")
