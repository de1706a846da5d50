"""``evidencekit pack``: turn a case into the files one channel accepts, plus a README saying
what to upload where.

    pack_case():  check OUTDIR → build the dossier (pipeline) → fit it to the channel
                  → carry originals the dossier does not hold → README → publish OUTDIR

How a dossier is fitted depends on what the channel takes (templates/targets.yaml ``attachments``),
not on the channel's name:

- channels that take PDF (12315, email, general): the dossier itself, with the originals inside
  when they fit; otherwise without them, split into volumes of whole exhibits when one file is
  too large, and at a lower image resolution when the channel's file count would be exceeded.
  Spare upload slots carry key evidence (a short recording, a key photo) on its own.
- channels that take only images (platform, payment): the key dossier pages as JPEG images
  plus the statement text; the full dossier is kept beside them.

Whenever the dossier that is handed over does not hold the originals, a ``原件/`` folder with
byte-identical copies and a SHA256SUMS.txt travels beside it (the dossier itself says that the
originals were not embedded). Everything is written into a temporary folder next to OUTDIR and
renamed into place only when complete, so a failure leaves no partial OUTDIR; a link at OUTDIR,
or on the way to it inside the case folder, is refused (fsutil).

File names in OUTDIR come from strangers' file names and titles, so ``pack_file_name`` cleans
them: NFC, bidi controls (U+202E …) dropped, control characters, slashes and backslashes replaced by
``_``, at most 255 UTF-8 bytes (NAME_MAX; the stem is shortened, the ``证据03_`` prefix and the
extension kept). SHA256SUMS.txt therefore never needs sha256sum's backslash escaping: every
line is ``<sha256>  <name>``, which ``sha256sum -c`` reads as it is.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evidencekit.case.load import load_case
from evidencekit.channels.letter import Attachment, Letter, compose_letter, format_letter, summarize_evidence
from evidencekit.errors import InternalError, OutputError
from evidencekit.fsutil import (
    create_new,
    create_new_fd,
    publish_directory,
    refuse_link_dir,
    refuse_special,
    resolve_output_path,
    stage_directory,
)
from evidencekit.integrity.attach import attachment_name, copy_original_into, original_bytes
from evidencekit.media.pool import Progress
from evidencekit.model import (
    AudioInspection,
    Dossier,
    EvidenceKind,
    Exhibit,
    ImageInspection,
    PdfInspection,
    Recipient,
    Target,
    VideoInspection,
    format_datetime,
)
from evidencekit.output import check_parent, refuse_inside_evidence, work_folder
from evidencekit.pipeline import BuildOptions, BuildResult, build_dossier
from evidencekit.rules.catalog import (
    AttachmentRules,
    PackWording,
    Rules,
    TargetProfile,
    load_rules,
    target_profile,
)

# Display-copy resolutions tried in turn when a channel's file count cannot hold the dossier.
# 80 dpi still keeps a phone screenshot's text legible at the exhibit box size.
DPI_STEPS = (150, 110, 80)
# Page images for image-only channels: A4 at 150 dpi is 1240 × 1754 px, readable on a phone.
PAGE_IMAGE_DPI = 150
ORIGINALS_DIR = "原件"
SUMS_NAME = "SHA256SUMS.txt"
README_NAME = "README.txt"
MARKER_NAME = ".evidencekit-pack"  # marks a folder this command wrote, so --force may replace it
# Estimates must leave room for what they do not count (page dictionaries, xref, outline).
_ESTIMATE_MARGIN = 0.95
_MB = 1_000_000  # the unit of targets.yaml limits



@dataclass(frozen=True)
class PackedFile:
    """One entry of OUTDIR (a file, or the 原件/ folder as a whole)."""

    name: str  # posix path relative to OUTDIR
    size: int  # bytes (a folder: the total of its files)
    description: str  # Chinese: what it holds
    upload: bool  # to be uploaded / attached on the channel
    exhibits: tuple[int, ...] = ()
    pages: tuple[int, int] | None = None  # 1-based dossier page range it holds


@dataclass(frozen=True)
class PackResult:
    outdir: Path
    target: Target
    target_label: str
    files: tuple[PackedFile, ...]
    exhibit_count: int
    fingerprint: str
    dpi: int  # display-copy resolution of the dossier that was packed
    originals_embedded: bool  # the packed dossier holds the originals
    notes: tuple[str, ...] = ()  # Chinese remarks also written to the README

    @property
    def uploads(self) -> tuple[PackedFile, ...]:
        return tuple(f for f in self.files if f.upload)


@dataclass(frozen=True)
class PackOptions:
    """What `pack` is asked for: the build options (target, force, reproducible, strict, now; the
    dossier's output path is pack's own) plus where the files go and how large they may be."""

    build: BuildOptions
    outdir: Path | None = None  # default: root/pack-<target>
    cap_bytes: int | None = None  # replaces the channel's size limit (per file, or per email for email)
    attachments: AttachmentRules | None = None  # replaces the channel's limits from targets.yaml altogether
    recipient: Recipient | None = None  # whom the email letter (body.txt) is addressed to; default the merchant


class _DoesNotFit(Exception):
    """This dossier cannot be cut to the channel's limits (internal: try a lower resolution)."""


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


def pack_case(root: Path, options: PackOptions, progress: Progress | None = None) -> PackResult:
    """Write the channel-ready files for ``options.build.target`` into ``options.outdir``."""
    rules = load_rules()
    profile = target_profile(options.build.target, rules)
    force, cap_bytes = options.build.force, options.cap_bytes
    load_case(root)  # an unusable case folder or case.yaml is reported before the output is checked
    out = resolve_outdir(root, options.outdir if options.outdir is not None else root / f"pack-{profile.key}")
    check_outdir(out, root, force)
    limits = options.attachments or profile.attachments
    if cap_bytes is not None:  # the limit the channel has: per email for email, else per file
        if limits.max_total_bytes is not None and limits.max_file_bytes is None:
            limits = replace(limits, max_total_bytes=cap_bytes)
        else:
            limits = replace(limits, max_file_bytes=cap_bytes)
    stage = stage_directory(out)
    try:
        with work_folder() as work:
            job = _Job(root=root, profile=profile, rules=rules, limits=limits, work=Path(work),
                       stage=stage, options=options.build, progress=progress, recipient=options.recipient)
            result = _pack_pdf_channel(job) if limits.takes_pdf else _pack_image_channel(job)
            result = replace(result, outdir=out)
            _write_readme(job, result)
            create_new(stage / MARKER_NAME, (
                json.dumps({"target": profile.key, "fingerprint": result.fingerprint,
                            "files": [f.name for f in result.files]}, ensure_ascii=False, indent=1) + "\n"
            ).encode("utf-8"))
        os.chmod(stage, 0o755)
        publish_directory(stage, out, replace_existing=force)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return result


def resolve_outdir(root: Path, outdir: Path) -> Path:
    """OUTDIR made absolute without following a link at its last part (``check_outdir`` refuses
    one); a folder on the way inside the case folder may not be a link a stranger planted."""
    return resolve_output_path(root, outdir, "输出文件夹")


def check_outdir(out: Path, root: Path, force: bool) -> None:
    """Refuse an OUTDIR we must not fill or replace, before any work is done."""
    refuse_inside_evidence(out, root, "输出文件夹")
    case_root = root.resolve()
    if out == case_root or out in case_root.parents:
        raise OutputError(f"输出文件夹 {out} 是案件文件夹本身或它的上级文件夹",
                          hint="用 -o 指定一个新的文件夹，例如 案件/pack-12315")
    if refuse_link_dir(out) and any(out.iterdir()):  # a link at OUTDIR is refused, even with --force
        if not force:
            raise OutputError(f"输出文件夹 {out} 已存在且不是空的",
                              hint="加 --force 替换它，或用 -o 指定另一个文件夹")
        if not refuse_special(out / MARKER_NAME, "输出文件夹的标记文件"):
            # --force replaces the whole folder: only ever one we wrote ourselves.
            raise OutputError(f"输出文件夹 {out} 不是 evidencekit pack 生成的，--force 也不会替换它",
                              hint="用 -o 指定另一个文件夹，或先自行清空该文件夹")
    check_parent(out, "输出文件夹")


# ---------------------------------------------------------------------------------------------
# Building and reading the dossier
# ---------------------------------------------------------------------------------------------


@dataclass
class _Job:
    root: Path
    profile: TargetProfile
    rules: Rules
    limits: AttachmentRules
    work: Path
    stage: Path
    options: BuildOptions  # as asked; each build sets its own output, dpi and originals
    progress: Progress | None
    recipient: Recipient | None = None
    notes: list[str] = field(default_factory=list)
    built: BuildResult | None = None
    layout: _Layout | None = None

    @property
    def target(self) -> Target:
        return self.profile.key

    def build(self, *, originals: bool, attach_limit: int | None = None, dpi: int = 150) -> BuildResult:
        name = f"dossier-{dpi}-{'orig' if originals else 'plain'}.pdf"
        options = replace(self.options, target=self.target, output=self.work / name, force=True,
                          attach_originals=originals, dpi=dpi)
        if attach_limit is not None:
            options = replace(options, attach_limit=attach_limit)
        result = build_dossier(self.root, options, self.progress)
        self.built = result
        self.layout = read_layout(result)
        return result

    def letter(self, attached: Sequence[PackedFile] = ()) -> Letter:
        """The channel's complaint text, naming the fingerprint of the dossier actually packed
        (it changes with the display-copy resolution) and, for a letter sent with files (email),
        the files in ``attached``."""
        assert self.built is not None
        d = self.built.dossier
        evidence = summarize_evidence((replace(ex.source, kind=ex.kind) for ex in d.exhibits), self.rules)
        return compose_letter(d.case, self.target, self.rules, fingerprint=d.fingerprint,
                              exhibits_summary=evidence, recipient=self.recipient,
                              attachments=[_attachment(f, d, len(attached)) for f in attached],
                              originals_attached=d.originals_attached if attached else None,
                              now=self.options.now)


@dataclass(frozen=True)
class _Layout:
    """Where the dossier's parts are (0-based page indexes), as the renderer placed them."""

    page_count: int
    entries: tuple[tuple[str, int, int], ...]  # bookmarks (title, page, level): copied into volumes
    exhibit_pages: dict[int, tuple[int, int]]  # exhibit number -> (first, last) page
    section_pages: dict[str, int]  # section name -> first page

    def section_start(self, name: str) -> int | None:
        return self.section_pages.get(name)


def read_layout(built: BuildResult) -> _Layout:
    """Page ranges from the renderer's page map; the bookmarks only to copy them into volumes."""
    return _Layout(
        built.page_count,
        _outline_entries(built.output),
        {number: (first - 1, last - 1) for number, (first, last) in built.exhibit_pages.items()},
        {name: page - 1 for name, page in built.section_pages.items()},
    )


def _outline_entries(pdf_path: Path) -> tuple[tuple[str, int, int], ...]:
    import pikepdf

    with pikepdf.open(pdf_path) as pdf:
        index = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
        entries: list[tuple[str, int, int]] = []
        with pdf.open_outline() as outline:
            stack = [(item, 0) for item in reversed(outline.root)]
            while stack:
                item, level = stack.pop()
                page = _destination_page(item.destination if item.destination is not None else
                                         (item.action.get("/D") if item.action is not None else None), index)
                if page is not None:
                    entries.append((str(item.title), page, level))
                stack.extend((child, level + 1) for child in reversed(item.children))
    return tuple(entries)


def _destination_page(dest: Any, index: dict[tuple[int, int], int]) -> int | None:
    import pikepdf

    if isinstance(dest, pikepdf.Array) and len(dest) > 0:
        target = dest[0]
        if isinstance(target, pikepdf.Dictionary) and target.is_indirect:
            return index.get(target.objgen)
        if isinstance(target, int):
            return int(target)
    return None


# ---------------------------------------------------------------------------------------------
# Channels that take PDF: 12315, email, general
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Volume:
    pages: tuple[int, ...]  # 0-based, contiguous
    path: Path
    size: int


def _pack_pdf_channel(job: _Job) -> PackResult:
    cap = job.limits.size_cap
    max_files = job.limits.max_files
    numbered = max_files is not None  # upload order matters where the slots are counted

    # With no size limit, or when the whole dossier with its originals fits, hand over one file.
    built = job.build(originals=True, attach_limit=cap)
    volumes: list[_Volume] | None = None
    dpi = DPI_STEPS[0]
    if cap is None or built.size <= cap:
        volumes = [_Volume(tuple(range(built.page_count)), built.output, built.size)]
    else:
        if built.dossier.originals_attached:
            built = job.build(originals=False)
        for dpi in DPI_STEPS:
            if dpi != DPI_STEPS[0]:
                built = job.build(originals=False, dpi=dpi)
            try:
                volumes = split_dossier(built.output, _layout(job), cap, max_files, job.work / f"vol-{dpi}")
                break
            except _DoesNotFit:
                continue
        if volumes is None:
            raise OutputError(_does_not_fit_message(job, cap, max_files),
                              hint="删去重复或不重要的证据文件（例如同一角度的多张照片）后重试，"
                                   "或改用 --target email / general 生成完整材料")
    dossier = built.dossier
    layout = _layout(job)
    files: list[PackedFile] = []
    for n, volume in enumerate(volumes, start=1):
        name = "证据材料.pdf" if len(volumes) == 1 else f"证据材料-第{n}卷.pdf"
        if numbered:
            name = f"{len(files) + 1:02d}_{name}"
        create_new(job.stage / name, volume.path)
        numbers = (_exhibits_in(layout, volume.pages) if len(volumes) > 1
                   else tuple(ex.number for ex in dossier.exhibits))
        files.append(PackedFile(name, volume.size, _volume_description(layout, volume.pages, dossier, n,
                                                                          len(volumes)),
                                upload=True, exhibits=numbers, pages=(volume.pages[0] + 1, volume.pages[-1] + 1)))
    if len(volumes) > 1:
        job.notes.append(f"证据材料超过 {_mb(cap)} 的大小限制，已按证据拆成 {len(volumes)} 卷；"
                         "各卷页码与完整材料一致，每项证据都完整地放在某一卷中（单项证据本身过大时才跨卷）。")
    if dpi != DPI_STEPS[0]:
        job.notes.append(f"为了符合附件限制（{_limits_text(job.limits)}），证据图片的分辨率"
                         f"由 {DPI_STEPS[0]} dpi 降到了 {dpi} dpi；原件不受影响。")
    if max_files is not None and len(files) < max_files:
        files += _key_evidence_files(job, dossier, max_files - len(files), start=len(files) + 1)
    if job.profile.letter_form == "message":
        letter = job.letter([f for f in files if f.upload])
        for item in letter.fields:
            if item.cuts:  # the subject has a length limit; say what it lost, as `letter` does
                lost = "；".join(f"删去“{c.original}”" if c.dropped else f"截去“{c.removed}”" for c in item.cuts)
                job.notes.append(f"{item.name}为了不超过 {item.limit} 字：{lost}。需要时请在 body.txt 里改写。")
        files.append(_write_text(job.stage / "body.txt", _email_body(letter),
                                 f"邮件主题和正文（写给{letter.recipient_label}）：复制到邮件里", upload=False))
    originals = None if dossier.originals_attached else _copy_originals(dossier.exhibits, job.stage)
    if originals:
        files.append(originals)
    return PackResult(outdir=job.stage, target=job.target, target_label=job.profile.label, files=tuple(files),
                      exhibit_count=len(dossier.exhibits), fingerprint=dossier.fingerprint, dpi=dpi,
                      originals_embedded=dossier.originals_attached, notes=tuple(job.notes))


def _layout(job: _Job) -> _Layout:
    assert job.layout is not None  # set by every build
    return job.layout


def _does_not_fit_message(job: _Job, cap: int | None, max_files: int | None) -> str:
    if max_files is None:
        return (f"证据材料中有一页即使把图片分辨率降到 {DPI_STEPS[-1]} dpi 也超过 {_mb(cap)}，"
                f"无法放进{job.profile.label}的大小限制（每个文件不超过 {_mb(cap)}）。")
    limit = f"最多 {max_files} 个文件、每个不超过 {_mb(cap)}"
    return (f"证据材料太大，{job.profile.label}的附件限制（{limit}）放不下："
            f"即使把图片分辨率降到 {DPI_STEPS[-1]} dpi 并按证据拆分，也需要超过 {max_files} 个文件。")


def split_dossier(src: Path, layout: _Layout, cap: int, max_files: int | None, folder: Path) -> list[_Volume]:
    """Cut ``src`` into page ranges of whole exhibits, each saved under ``cap`` bytes.

    Front matter (cover to timeline) opens the first volume and the appendix closes the last;
    an exhibit is cut only when it alone exceeds the cap. Raises _DoesNotFit when one page is
    over the cap or more than ``max_files`` volumes would be needed.
    """
    import pikepdf

    folder.mkdir(parents=True, exist_ok=True)
    units = _units(layout)
    with pikepdf.open(src) as pdf:
        shared, own = _page_costs(pdf)

    def estimate(pages: Iterable[int]) -> int:
        return shared + sum(own[p] for p in pages)

    volumes: list[_Volume] = []
    i = 0
    while i < len(units):
        if estimate(units[i]) > cap and len(units[i]) > 1:
            units[i:i + 1] = [(p,) for p in units[i]]  # a too-large exhibit goes page by page
        j = i + 1
        while j < len(units) and estimate(p for u in units[i:j + 1] for p in u) <= cap * _ESTIMATE_MARGIN:
            j += 1
        while True:
            pages = tuple(p for u in units[i:j] for p in u)
            path = folder / f"vol-{len(volumes) + 1}.pdf"
            size = write_pages(src, pages, layout, path)
            if size <= cap:
                break
            if j - i > 1:
                j -= 1
            elif len(units[i]) > 1:
                units[i:i + 1] = [(p,) for p in units[i]]
                j = i + 1
            else:
                raise _DoesNotFit
        volumes.append(_Volume(pages, path, size))
        if max_files is not None and len(volumes) > max_files:
            raise _DoesNotFit
        i = j
    return volumes


def _units(layout: _Layout) -> list[tuple[int, ...]]:
    """Consecutive page groups that should stay together: front matter, each exhibit, the rest."""
    if not layout.exhibit_pages:
        return [(p,) for p in range(layout.page_count)]
    ranges = sorted(layout.exhibit_pages.values())
    units: list[tuple[int, ...]] = []
    cursor = 0
    for first, last in ranges:
        if first > cursor:
            units.append(tuple(range(cursor, first)))
        units.append(tuple(range(first, last + 1)))
        cursor = last + 1
    if cursor < layout.page_count:
        units.append(tuple(range(cursor, layout.page_count)))
    return units


def _page_costs(pdf: Any) -> tuple[int, list[int]]:
    """Bytes of the objects each page alone uses, and of those several pages share (fonts)."""
    import pikepdf

    owners: dict[tuple[int, int], set[int]] = {}
    sizes: dict[tuple[int, int], int] = {}
    for i, page in enumerate(pdf.pages):
        stack: list[Any] = [page.obj.get("/Contents"), page.obj.get("/Resources")]
        seen: set[tuple[int, int]] = set()
        while stack:
            obj = stack.pop()
            if not isinstance(obj, pikepdf.Object):  # numbers and names come back as Python values
                continue
            if obj.is_indirect:
                key = obj.objgen
                if key in seen:
                    continue
                seen.add(key)
                owners.setdefault(key, set()).add(i)
                if key not in sizes:
                    length = obj.stream_dict.get("/Length") if isinstance(obj, pikepdf.Stream) else None
                    sizes[key] = (int(length) if isinstance(length, int) else 0) + 100
            if isinstance(obj, pikepdf.Stream):
                stack.extend(v for k, v in obj.stream_dict.items() if k not in ("/Length",))
            elif isinstance(obj, pikepdf.Dictionary):
                stack.extend(v for k, v in obj.items() if k != "/Parent")
            elif isinstance(obj, pikepdf.Array):
                stack.extend(obj)
    own = [2_000] * len(pdf.pages)  # the page dictionary, annotations, xref entries
    shared = 20_000  # catalog, outline, manifest attachment
    for key, pages in owners.items():
        if len(pages) == 1:
            own[next(iter(pages))] += sizes[key]
        else:
            shared += sizes[key]
    return shared, own


def write_pages(src: Path, pages: Sequence[int], layout: _Layout, out: Path) -> int:
    """Save ``pages`` of ``src`` as their own PDF: links and bookmarks into the kept pages survive,
    links out of them are dropped (so the other pages' images are not dragged along)."""
    import pikepdf

    keep = set(pages)
    with pikepdf.open(src) as pdf:
        index = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
        for i in pages:
            page = pdf.pages[i].obj
            annots = page.get("/Annots")
            if annots is None:
                continue
            kept = [a for a in annots if (t := _link_target(a, index)) is None or t in keep]
            page.Annots = pikepdf.Array(kept)
        if "/Outlines" in pdf.Root:
            del pdf.Root.Outlines
        for i in reversed(range(len(pdf.pages))):
            if i not in keep:
                del pdf.pages[i]
        first = min(pages)
        # Viewers then show the dossier's own page numbers (the footer's 第 N 页).
        pdf.Root.PageLabels = pikepdf.Dictionary(
            Nums=pikepdf.Array([0, pikepdf.Dictionary(S=pikepdf.Name.D, St=first + 1)]))
        with pdf.open_outline() as outline:
            parent: Any = None
            for title, page_no, level in layout.entries:
                if page_no not in keep:
                    continue
                item = pikepdf.OutlineItem(title, page_no - first)
                if level > 0 and parent is not None:
                    parent.children.append(item)
                else:
                    outline.root.append(item)
                    if level == 0:
                        parent = item
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.stat().st_size


def _link_target(annot: Any, index: dict[tuple[int, int], int]) -> int | None:
    """The page an internal link jumps to; None for anything else (URI links, notes).

    An internal link whose target cannot be resolved counts as pointing nowhere we keep (-1).
    """
    import pikepdf

    if annot.get("/Subtype") != pikepdf.Name.Link:
        return None
    dest = annot.get("/Dest")
    action = annot.get("/A")
    if dest is None and action is not None and action.get("/S") == pikepdf.Name.GoTo:
        dest = action.get("/D")
    if dest is None:
        return None
    page = _destination_page(dest, index)
    return -1 if page is None else page


def _exhibits_in(layout: _Layout, pages: Sequence[int]) -> tuple[int, ...]:
    kept = set(pages)
    return tuple(sorted(n for n, (first, last) in layout.exhibit_pages.items()
                        if kept & set(range(first, last + 1))))


def _volume_description(layout: _Layout, pages: Sequence[int], dossier: Dossier, n: int, total: int) -> str:
    from evidencekit.pdf.exhibits import TITLE as EXHIBITS_TITLE

    kept = set(pages)
    numbers = _exhibits_in(layout, pages)
    first_exhibit = min((layout.exhibit_pages[n][0] for n in numbers), default=layout.page_count)
    sections = [(page, title) for title, page, level in layout.entries
                if level == 0 and page in kept and title != EXHIBITS_TITLE]
    before = [title for page, title in sections if page < first_exhibit]
    after = [title for page, title in sections if page >= first_exhibit]
    parts = ["、".join(group) for group in (before, [number_ranges(numbers)] if numbers else [], after) if group]
    which = "完整证据材料" if total == 1 else f"证据材料第 {n}/{total} 卷"
    attached = "，原件已嵌入 PDF" if dossier.originals_attached else ""
    return f"{which}（第 {pages[0] + 1}–{pages[-1] + 1} 页）：{'；'.join(parts) or '—'}{attached}"


# ---------------------------------------------------------------------------------------------
# Key evidence in spare upload slots, and page images for image-only channels
# ---------------------------------------------------------------------------------------------


def key_exhibits(exhibits: Sequence[Exhibit], target: Target, rules: Rules) -> list[Exhibit]:
    """Exhibits in the order they deserve an upload slot: one of each kind first, by importance
    (targets.yaml key_evidence)."""
    pack = target_profile(target, rules).pack
    order = pack.key_evidence if pack is not None else tuple(EvidenceKind)
    rank = {kind: i for i, kind in enumerate(order)}
    ranked = sorted(exhibits, key=lambda ex: (rank.get(ex.kind, len(order)), ex.number))
    first_of_kind: list[Exhibit] = []
    rest: list[Exhibit] = []
    seen: set[EvidenceKind] = set()
    for ex in ranked:
        (rest if ex.kind in seen else first_of_kind).append(ex)
        seen.add(ex.kind)
    return first_of_kind + rest


def _allowed(suffix: str, limits: AttachmentRules) -> bool:
    return not limits.formats or suffix.lower().lstrip(".") in limits.formats


def _fits(size: int, limits: AttachmentRules) -> bool:
    cap = limits.size_cap
    return cap is None or size <= cap


def _key_evidence_files(job: _Job, dossier: Dossier, slots: int, start: int) -> list[PackedFile]:
    """Spare slots carry the key exhibits on their own: a recording or PDF as the untouched
    original, a photo as its display copy (upright, GPS and serials removed, redactions applied)."""
    files: list[PackedFile] = []
    for ex in key_exhibits(dossier.exhibits, job.target, job.rules):
        if len(files) >= slots:
            break
        picked = _key_source(ex, job.limits)
        if picked is None:
            continue
        path, what = picked
        name = pack_file_name(f"{start + len(files):02d}_{ex.label}-{safe_name(ex.title)}{path.suffix.lower()}")
        # An original travels as the bytes that were hashed, re-checked now (it is within the
        # channel's file cap, so it fits in memory); a display copy is our own file.
        data = original_bytes(ex) if path == ex.source.path else path
        size = create_new(job.stage / name, data)
        files.append(PackedFile(name, size, f"{ex.label} {ex.title}：{what}", upload=True, exhibits=(ex.number,)))
    return files


def _key_source(ex: Exhibit, limits: AttachmentRules) -> tuple[Path, str] | None:
    insp = ex.inspection
    src = ex.source
    # Originals only where nothing was hidden and nothing can be cleaned: a photo's display copy
    # drops its location, and a redacted file (only photos are redacted) must never travel as
    # the original.
    if (isinstance(insp, VideoInspection | AudioInspection | PdfInspection)
            and _allowed(src.suffix, limits) and _fits(src.size, limits)):
        return src.path, f"原件（未改动，SHA-256 {src.sha256[:16]}…，与证据材料一致）"
    images = insp.images if isinstance(insp, ImageInspection | PdfInspection) else ()
    frames = insp.frames if isinstance(insp, VideoInspection) else ()
    for image in images[:1]:
        if _allowed(image.path.suffix, limits) and image.path.is_file() and _fits(image.path.stat().st_size, limits):
            return image.path, "显示副本（已摆正，去除了位置和设备序列号等元数据）"
    for frame in frames[:1]:
        path = frame.image.path
        if _allowed(path.suffix, limits) and path.is_file() and _fits(path.stat().st_size, limits):
            caption = frame.caption or frame.image.caption
            return path, f"录屏画面{('（' + caption + '）') if caption else ''}"
    return None


def _pack_image_channel(job: _Job) -> PackResult:
    """Platform / payment: the statement page and key exhibit pages as images."""
    built = job.build(originals=True)
    dossier = built.dossier
    layout = _layout(job)
    slots = job.limits.max_files or 9
    cap = job.limits.size_cap or 2 * _MB
    suffix = ".jpg" if _allowed(".jpg", job.limits) else ".png"
    from evidencekit.pdf.summary import TITLE as SUMMARY_TITLE

    # The 投诉要点 page carries order, problem, claims and legal basis on one page; the
    # checklist is for the complainant (it lists what is weak) and is not handed to the merchant.
    pages: list[tuple[int, str, tuple[int, ...]]] = []
    summary = layout.section_start("summary")
    pages.append((summary if summary is not None else 0, SUMMARY_TITLE, ()))
    for ex in key_exhibits(dossier.exhibits, job.target, job.rules):
        if len(pages) >= slots:
            break
        if ex.number in layout.exhibit_pages:
            pages.append((layout.exhibit_pages[ex.number][0], f"{ex.label}-{safe_name(ex.title)}", (ex.number,)))
    files: list[PackedFile] = []
    for n, (page, label, numbers) in enumerate(pages, start=1):
        name = pack_file_name(f"{n:02d}_{label}{suffix}")
        size = render_page_image(built.output, page, job.stage / name, cap)
        if numbers:
            ex = next(e for e in dossier.exhibits if e.number == numbers[0])
            what = f"{ex.label} {ex.title}（证据材料第 {page + 1} 页，含时间、来源和 SHA-256）"
        else:
            what = f"投诉要点（证据材料第 {page + 1} 页：订单、问题、诉求和法律依据）"
        files.append(PackedFile(name, size, what, upload=True, exhibits=numbers, pages=(page + 1, page + 1)))
    limit = job.profile.statement_limit
    files.append(_write_text(job.stage / "statement.txt", format_letter(job.letter()),
                             f"说明文字：按栏目复制到{job.profile.label}的表单{f'（问题描述不超过 {limit} 字）' if limit else ''}",
                             upload=False))
    create_new(job.stage / "证据材料.pdf", built.output)
    files.append(PackedFile("证据材料.pdf", built.size,
                            "完整证据材料 PDF（平台一般不收 PDF；留存，或在平台要求补充材料、转投 12315 时使用）"
                            + ("，原件已嵌入" if dossier.originals_attached else ""),
                            upload=False, exhibits=tuple(e.number for e in dossier.exhibits),
                            pages=(1, built.page_count)))
    shown = {n for f in files if f.upload for n in f.exhibits}
    left = [e.number for e in dossier.exhibits if e.number not in shown]
    if left:
        job.notes.append(f"{job.profile.label}只能上传 {slots} 张图片，{number_ranges(left)} 没有做成图片，"
                         "见证据材料.pdf；可以补充材料时再上传。")
    if not dossier.originals_attached:
        files.append(_copy_originals(dossier.exhibits, job.stage))
    return PackResult(outdir=job.stage, target=job.target, target_label=job.profile.label, files=tuple(files),
                      exhibit_count=len(dossier.exhibits), fingerprint=dossier.fingerprint, dpi=DPI_STEPS[0],
                      originals_embedded=dossier.originals_attached, notes=tuple(job.notes))


def render_page_image(pdf_path: Path, page: int, out: Path, cap: int) -> int:
    """One dossier page as a JPEG (or PNG) no larger than ``cap`` bytes."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        image = doc[page].render(scale=PAGE_IMAGE_DPI / 72).to_pil().convert("RGB")
    finally:
        doc.close()
    scale = 1.0
    while True:
        shown = image if scale == 1.0 else image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))))
        for quality in (88, 78, 65):
            buffer = io.BytesIO()
            if out.suffix == ".png":
                shown.save(buffer, "PNG", optimize=True)
            else:
                shown.save(buffer, "JPEG", quality=quality, optimize=True)
            if buffer.tell() <= cap:
                return create_new(out, buffer.getvalue())
        if scale < 0.3:
            raise OutputError(f"证据材料第 {page + 1} 页无法压缩到 {_mb(cap)} 以内")
        scale *= 0.8


# ---------------------------------------------------------------------------------------------
# Originals, texts, README
# ---------------------------------------------------------------------------------------------


def _copy_originals(exhibits: Sequence[Exhibit], stage: Path) -> PackedFile:
    """Byte-identical copies of the originals (read only, never written) plus SHA256SUMS.txt."""
    folder = stage / ORIGINALS_DIR
    folder.mkdir()
    total = 0
    sums = []
    for ex in exhibits:
        # No control character, bidi control or backslash survives in a name (pack_file_name), so
        # every SHA256SUMS.txt line is the plain ``<hash>  <name>`` that sha256sum -c reads.
        name = pack_file_name(attachment_name(ex))
        # The stage is discarded whole if this fails, so a half copy never leaves it.
        with open(create_new_fd(folder / name), "wb", closefd=True) as dst:
            data_times = copy_original_into(ex, dst)
        os.utime(folder / name, ns=(data_times.st_atime_ns, data_times.st_mtime_ns))
        total += ex.source.size
        sums.append(f"{ex.source.sha256}  {name}\n")
    create_new(folder / SUMS_NAME, "".join(sums).encode("utf-8"))
    return PackedFile(f"{ORIGINALS_DIR}/", total,
                      f"全部 {len(exhibits)} 个原始文件（未改动，文件名前加了证据编号）和 {SUMS_NAME}（哈希值）；"
                      "原件保留了全部元数据（可能含拍摄位置）",
                      upload=False, exhibits=tuple(ex.number for ex in exhibits))


def _write_text(path: Path, text: str, description: str, *, upload: bool) -> PackedFile:
    size = create_new(path, _notepad_text(text))
    return PackedFile(path.name, size, description, upload=upload)


def _notepad_text(text: str) -> bytes:
    """A BOM and CRLF so that older Windows Notepad shows the Chinese text correctly."""
    return ("\ufeff" + text.rstrip("\n").replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n").encode("utf-8")


def _attachment(f: PackedFile, dossier: Dossier, count: int) -> Attachment:
    """How the email letter describes one attached file: its pages and exhibits."""
    parts = []
    if count > 1 and f.pages is not None:
        parts.append(f"第 {f.pages[0]}–{f.pages[1]} 页")
    if f.name.endswith(".pdf"):
        if f.exhibits:
            parts.append(f"共 {len(f.exhibits)} 项证据" if count == 1 else number_ranges(f.exhibits))
        if dossier.originals_attached:
            parts.append("原件已嵌入")
    elif f.exhibits:
        parts.append(number_ranges(f.exhibits))
    return Attachment(f.name, "，".join(parts))


def _email_body(letter: Letter) -> str:
    """``邮件主题：…`` then the body, ready to paste into a mail program."""
    if letter.form == "message":
        subject, *rest = letter.fields
        body = "\n\n".join(f.text for f in rest)
        return f"{subject.name}：{subject.text}\n\n{body}"
    return format_letter(letter)


def _write_readme(job: _Job, result: PackResult) -> None:
    built = job.built
    assert built is not None
    d = built.dossier
    uploads = result.uploads
    kept = [f for f in result.files if not f.upload]
    limits = job.limits
    lines = [
        f"evidencekit 提交材料包：{job.profile.label}",
        "=" * 40,
        f"材料：{d.title}（案件编号 {d.case_id}）",
        f"证据：共 {len(d.exhibits)} 项；证据材料指纹（清单 SHA-256）：{d.fingerprint}",
        f"生成：{format_datetime(d.generated_at)}，evidencekit {d.tool_version}",
        "",
    ]
    lines.append(f"一、{_wording(job).upload_heading}（共 {len(uploads)} 个，按编号顺序）")
    lines.append(f"    渠道限制：{_limits_text(limits)}")
    if not limits.confirmed and limits.source:
        lines.append(f"    （限制未经官方核实：{limits.source}）")
    for n, f in enumerate(uploads, start=1):
        lines.append(f"  {n}. {f.name}  {_mb(f.size)}")
        lines.append(f"     {f.description}")
    if job.target == Target.EMAIL and len(uploads) > 1:
        lines.append(f"    每封邮件的附件不能超过 {_mb(limits.size_cap)}（附件经 base64 编码后约增大三分之一），"
                     "请每卷单独发一封邮件，正文相同，主题后注明“（第 N/共 M 封）”。")
    lines.append("")
    lines.append("二、其他文件（不作为附件上传）")
    lines.append(f"  {README_NAME}  本说明")
    for f in kept:
        size = f"  {_mb(f.size)}" if f.size else ""
        lines.append(f"  {f.name}{size}")
        lines.append(f"     {f.description}")
    if not result.originals_embedded:
        lines.append("    原始文件没有嵌入上传的证据材料（材料中已说明），原件在 原件/ 文件夹里。请妥善保存原件和拍摄设备，"
                     "监管部门、平台或商家要求时再提供；对方可用 SHA256SUMS.txt 或 evidencekit verify 核对哈希值。")
    lines.append("")
    message = job.profile.letter_form == "message"
    to = f"（收件人：{job.letter().recipient_label}）" if message else ""
    lines.append(f"三、{_wording(job).text_heading}{to}")
    text_file = next((f.name for f in result.files if f.name in ("body.txt", "statement.txt")), "")
    if text_file and message:
        to_option = f" --to {job.recipient}" if job.recipient else ""
        lines.append(f"    见 {text_file}（即 evidencekit letter --target {job.target}{to_option} 的内容，"
                     "附件清单写的是第一节的文件和本材料的指纹）。")
    elif text_file:
        lines.append(f"    见 {text_file}（与 evidencekit letter --target {job.target} 的内容相同）。")
    else:
        if _wording(job).text_note:
            lines.append(f"    {_wording(job).text_note}")
        lines += [f"  {line}" if line else "" for line in format_letter(job.letter()).splitlines()]
    lines.append("")
    lines.append("四、每项证据在哪个文件")
    for ex in d.exhibits:
        where = [_where(f, ex.number, _layout(job)) for f in result.files if ex.number in f.exhibits]
        lines.append(f"  {ex.label} {_one_line(ex.title)}（{_one_line(ex.source.rel_path)}）：{'；'.join(where) or '未打包'}")
    if d.refused:
        lines.append(f"  另有 {len(d.refused)} 个文件未读取，原因见证据材料的证据目录。")
    if result.notes:
        lines.append("")
        lines.append("五、说明")
        lines += [f"  - {note}" for note in result.notes]
    create_new(job.stage / README_NAME, _notepad_text("\n".join(lines)))


def _where(f: PackedFile, number: int, layout: _Layout) -> str:
    if f.pages is None or number not in layout.exhibit_pages or not f.name.endswith(".pdf"):
        return f.name
    first, last = layout.exhibit_pages[number]
    lo, hi = max(first + 1, f.pages[0]), min(last + 1, f.pages[1])
    if lo > hi:
        return f.name
    return f"{f.name} 第 {lo} 页" if lo == hi else f"{f.name} 第 {lo}–{hi} 页"


def _wording(job: _Job) -> PackWording:
    """The channel's README wording from targets.yaml."""
    pack = job.profile.pack
    if pack is None:
        raise InternalError(f"targets.yaml 中 {job.target} 没有 pack 一项")
    return pack


def _limits_text(limits: AttachmentRules) -> str:
    parts = []
    if limits.max_files is not None:
        parts.append(f"最多 {limits.max_files} 个文件")
    if limits.max_file_bytes is not None:
        parts.append(f"每个不超过 {_mb(limits.max_file_bytes)}")
    if limits.max_total_bytes is not None:
        parts.append(f"合计不超过 {_mb(limits.max_total_bytes)}")
    if limits.formats:
        parts.append(f"格式 {'/'.join(limits.formats)}")
    return "，".join(parts) or "无限制"


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _mb(size: int | None) -> str:
    """Decimal megabytes, rounded down so a file shown as "5.00 MB" never exceeds a 5 MB limit."""
    if size is None:
        return "不限"
    if size < 10_000:
        return f"{size} 字节"
    return f"{size // 10_000 / 100:.2f} MB"


_UNSAFE = re.compile(r'[\\/:*?"<>|\s\x00-\x1f\x7f-\x9f]+')
# Bidi controls make "invoice\u202egpj.exe" show as "invoiceexe.jpg"; they are dropped from names.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Control characters (C0, DEL, C1), path separators and the backslash that sha256sum would escape.
_NAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\]+")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
NAME_MAX_BYTES = 255  # NAME_MAX of ext4, APFS, NTFS (in UTF-8 bytes for the first two)
_MAX_SUFFIX_BYTES = 16


def safe_name(text: str, limit: int = 24) -> str:
    """A file-name fragment that every system and uploader accepts."""
    cleaned = _UNSAFE.sub("_", _BIDI.sub("", unicodedata.normalize("NFC", text))).strip("._")
    return cleaned[:limit] or "证据"


def _one_line(text: str) -> str:
    """User text (a title, a file name) on one README line: no bidi or control characters."""
    return _CONTROLS.sub(" ", _BIDI.sub("", text))


def pack_file_name(name: str, limit: int = NAME_MAX_BYTES) -> str:
    """A name as written into OUTDIR: NFC, bidi controls dropped, control characters, slashes
    and backslashes replaced by ``_``, and at most ``limit`` UTF-8 bytes — shortened from the
    end of the stem, so a prefix such as ``证据03_`` and the extension survive."""
    cleaned = _NAME_UNSAFE.sub("_", _BIDI.sub("", unicodedata.normalize("NFC", name)))
    if cleaned.strip(".") == "":
        cleaned = "_" + cleaned
    if len(cleaned.encode("utf-8")) <= limit:
        return cleaned
    stem, suffix = os.path.splitext(cleaned)
    if len(suffix.encode("utf-8")) > _MAX_SUFFIX_BYTES:
        stem, suffix = cleaned, ""
    budget = limit - len(suffix.encode("utf-8"))
    return stem.encode("utf-8")[:budget].decode("utf-8", "ignore") + suffix


def number_ranges(numbers: Iterable[int]) -> str:
    """``证据1–3、证据5`` for (1, 2, 3, 5)."""
    ordered = sorted(set(numbers))
    runs: list[tuple[int, int]] = []
    for n in ordered:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return "、".join(f"证据{a}" if a == b else f"证据{a}–{b}" for a, b in runs)


def format_pack(result: PackResult) -> str:
    """What the command prints: the folder, each file and what to do next."""
    lines = [f"已生成{result.target_label}提交材料：{result.outdir}"]
    for f in result.files:
        mark = "上传" if f.upload else "留存"
        lines.append(f"  [{mark}] {f.name}  {_mb(f.size)}")
    lines.append(f"  共 {result.exhibit_count} 项证据；指纹（清单 SHA-256）：{result.fingerprint}")
    lines += [f"  注意：{note}" for note in result.notes]
    lines.append(f"上传前请先阅读 {result.outdir / README_NAME}")
    return "\n".join(lines)


__all__ = [
    "PackResult",
    "PackedFile",
    "check_outdir",
    "format_pack",
    "key_exhibits",
    "number_ranges",
    "pack_case",
    "read_layout",
    "render_page_image",
    "safe_name",
    "split_dossier",
    "write_pages",
]
