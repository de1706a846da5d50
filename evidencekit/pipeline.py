"""The whole product on one screen: case folder in, dossier PDF out.

Steps of one shape, ``step(ctx: BuildContext) -> None``, run in order over one context that
carries the options and every value a step produces:

    check:  load → inventory → inspect → number → read → checklist → assess
    build:  load → output → warm → inventory → inspect → number → read → checklist → assess → strict → mask
            → assemble → render → attach → publish → record

One bad file becomes a recorded finding, never a crash; the only step that touches the user's
output path is ``publish``; ``record`` then writes the exhibit numbers into case.yaml.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from evidencekit.buildtypes import (
    DEFAULT_ATTACH_LIMIT,
    Assessment,
    BuildOptions,
    BuildResult,
    checklist_complete_for,
)
from evidencekit.cache import DisplayCache
from evidencekit.case.inventory import Inventory, scan_evidence
from evidencekit.case.load import load_case
from evidencekit.dossier import assemble_dossier
from evidencekit.errors import ChecklistIncomplete
from evidencekit.integrity.stamp import existing_token
from evidencekit.media.base import MediaContext
from evidencekit.media.pool import Progress, available_cpus, inspect_files
from evidencekit.model import Case, ChecklistItem, Dossier, Exhibit, Finding, Severity, Status
from evidencekit.numbering import Numbering, number_exhibits, record_in_case
from evidencekit.output import check_output, resolve_output, work_folder
from evidencekit.output import publish as publish_file
from evidencekit.pdf.layout_hints import LayoutHints
from evidencekit.privacy import mask_assessment
from evidencekit.readfacts import ScreenRead, read_screens, screen_findings, text_boxes
from evidencekit.rules.catalog import advice_for, build_checklist, load_rules
from evidencekit.rules.ocr_fields import load_ocr_fields
from evidencekit.timeinfo import date_inspection, time_findings

if TYPE_CHECKING:
    from evidencekit.pdf.render import RenderResult

# The values the steps take and give, defined in buildtypes.py; importable from here as before.
__all__ = ["DEFAULT_ATTACH_LIMIT", "Assessment", "BuildContext", "BuildOptions", "BuildResult", "assess_case",
           "build_dossier", "checklist_complete_for"]


@dataclass
class BuildContext:
    """The options, and the values the steps produce; each value is set by one step (named
    beside it) and only read by the steps after it."""

    root: Path
    options: BuildOptions
    progress: Progress | None = None
    later: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)  # closed after the last step
    case: Case = field(init=False)  # load
    output: Path = field(init=False)  # output
    importing: threading.Thread | None = None  # warm: joined by inspect before any fork
    meanwhile: Callable[[], None] | None = None  # warm: for a spare moment during inspect
    inventory: Inventory = field(init=False)  # inventory
    exhibits: tuple[Exhibit, ...] = field(init=False)  # inspect (all numbered 0), number
    numbering: Numbering = field(init=False)  # number
    media: MediaContext = field(init=False)  # inspect
    screens: tuple[ScreenRead, ...] = ()  # read
    ocr_note: str = ""  # read
    checklist: tuple[ChecklistItem, ...] = field(init=False)  # checklist
    assessment: Assessment = field(init=False)  # assess; mask replaces it (and options: no originals)
    assessed: Assessment = field(init=False)  # assess: kept unmasked for the shopper's self-check
    dossier: Dossier = field(init=False)  # assemble
    work: Path = field(init=False)  # render: the private work folder
    rendered: RenderResult = field(init=False)  # render
    token_findings: tuple[Finding, ...] = field(init=False)  # attach
    notes: list[str] = field(default_factory=list)  # number, mask, record: for the terminal


Step = Callable[[BuildContext], None]


# ---------------------------------------------------------------------------------------------
# The steps
# ---------------------------------------------------------------------------------------------


def load(ctx: BuildContext) -> None:
    ctx.case = load_case(ctx.root)  # exit 3 on a bad case.yaml, before any output problem


def output(ctx: BuildContext) -> None:
    ctx.output = resolve_output(ctx.root, ctx.options.output, ctx.options.target)
    check_output(ctx.output, ctx.root, ctx.options.force)  # fail before any work when unusable


def warm(ctx: BuildContext) -> None:
    """Work the renderer will need, done while the main process would otherwise wait: its
    imports on a thread while inventory hashes (hashlib releases the GIL), joined before
    inspect may fork workers; the fonts while the workers decode (inspect runs ``meanwhile``)."""
    font = ctx.options.font
    ctx.importing = threading.Thread(target=_import_renderer, name="evidencekit-import")
    ctx.importing.start()
    ctx.meanwhile = lambda: _prepare_render(font)


def _import_renderer() -> None:
    with contextlib.suppress(Exception):  # only a head start: render imports it again, and reports
        import evidencekit.pdf.render  # noqa: F401


def _prepare_render(font: Path | None) -> None:
    from evidencekit.pdf.render import prepare_render

    prepare_render(font)


def inventory(ctx: BuildContext) -> None:
    ctx.inventory = scan_evidence(ctx.case.root, ctx.case.tz)  # hash first


def inspect(ctx: BuildContext) -> None:
    """Display copies and facts for every file (media/), each dated by timeinfo.date_inspection."""
    if ctx.importing is not None:
        ctx.importing.join()  # a worker forked while a thread holds the import lock could hang
    case, options, rules = ctx.case, ctx.options, load_rules()
    media = MediaContext(
        cache=DisplayCache(options.cache_dir), tz=case.tz, dpi=options.dpi,
        max_exhibit_pages=options.max_exhibit_pages,
        # Chat exports decide who is the shopper and who the merchant from the case's names.
        chat_self_names=tuple(n for n in (case.complainant.name,) if n),
        chat_merchant_names=tuple(
            n for n in (case.merchant.shop_name, case.merchant.company, case.livestream.host) if n))
    files = ctx.inventory.files
    inspections = inspect_files(case, files, media, options.jobs or available_cpus(), ctx.progress,
                                ctx.meanwhile)
    media.cache.prune()
    exhibits = []
    for src, insp in zip(files, inspections, strict=True):
        o = case.override_for(src.rel_path)
        kind = o.kind if o and o.kind else src.kind
        stamp, insp = date_inspection(src, insp, o, case.tz, options.now)
        exhibits.append(Exhibit(number=0, source=src, kind=kind, title=o.title if o else "", stamp=stamp,
                                proves=o.proves if o and o.proves else rules.kinds[kind.value].proves,
                                note=o.note if o else "", inspection=insp))
    ctx.exhibits = tuple(exhibits)
    ctx.media = media


def number(ctx: BuildContext) -> None:
    """证据1, 证据2, ...: as case.yaml records them, new files after (numbering.py)."""
    ctx.numbering = number_exhibits(ctx.exhibits, ctx.case, load_rules(), renumber=ctx.options.renumber)
    ctx.exhibits = ctx.numbering.exhibits
    ctx.notes += ctx.numbering.notes()


def read(ctx: BuildContext) -> None:
    """Text of the order, payment and logistics screenshots (readfacts.py), unless --no-ocr."""
    if ctx.options.ocr:
        ctx.screens, ctx.ocr_note = read_screens(ctx.exhibits, ctx.media, load_ocr_fields(),
                                                 ctx.options.jobs or available_cpus(), ctx.progress)


def checklist(ctx: BuildContext) -> None:
    options = ctx.options
    ctx.checklist = build_checklist(ctx.case, ctx.exhibits, options.target, load_rules(), now=options.now)


def assess(ctx: BuildContext) -> None:
    """Every finding in one list: the folder's, each file's, the times'."""
    # A kind declared in case.yaml settles what the folder could not tell.
    declared = {e.file for e in ctx.case.evidence if e.kind is not None}
    findings = tuple(f for f in ctx.inventory.findings
                     if not (f.code == "kind.unknown_folder" and f.subject in declared))
    findings += tuple(f for ex in ctx.exhibits for f in ex.inspection.findings)
    findings += tuple(time_findings(ctx.exhibits))
    findings += screen_findings(ctx.case, ctx.exhibits, ctx.screens, load_ocr_fields())
    ctx.assessment = ctx.assessed = Assessment(ctx.case, ctx.inventory, ctx.exhibits, ctx.checklist, findings,
                                               advice_for(ctx.case, load_rules()), ctx.screens, ctx.ocr_note)


def strict(ctx: BuildContext) -> None:
    """--strict: no dossier (exit 6) while anything required is missing, anything weak, any warning."""
    a = ctx.assessment
    if not ctx.options.strict or checklist_complete_for(a, strict=True):
        return
    lines = [f"  ✗ {i.label}：{i.reason}" for i in a.checklist if i.required and i.status is Status.MISSING]
    lines += [f"  ! {i.label}：{i.reason}" for i in a.checklist if i.status is Status.WEAK]
    lines += [f"  ! {f.message}" for f in a.findings if f.severity is not Severity.INFO]
    raise ChecklistIncomplete("证据或案件信息不完整（--strict），未生成证据材料：\n" + "\n".join(lines),
                              hint="运行 evidencekit check 查看详情；补齐后重新生成，或去掉 --strict")


def mask(ctx: BuildContext) -> None:
    """--mask-personal: personal data out of every text; no originals attached (privacy.py)."""
    if ctx.options.mask_personal:
        masked, notes = mask_assessment(ctx.assessment)
        # The recipient's 证据清单 states case facts (ChecklistItem.statement): the masked ones.
        options = ctx.options = replace(ctx.options, attach_originals=False)
        items = build_checklist(masked.case, masked.exhibits, options.target, load_rules(), now=options.now)
        ctx.assessment = replace(masked, checklist=items)
        ctx.notes += notes


def assemble(ctx: BuildContext) -> None:
    ctx.dossier = assemble_dossier(ctx.assessment, ctx.options)  # timeline, legal, manifest


def render(ctx: BuildContext) -> None:
    """The pages, in a private work folder that lives until the last step has run."""
    from evidencekit.pdf.render import render_dossier

    ctx.work = Path(ctx.later.enter_context(work_folder()))
    cache = ctx.media.cache  # the build's cache folder: display copies, page hints, line breaks
    d = ctx.dossier
    hints = LayoutHints(cache, [ex.source.sha256 for ex in d.exhibits], ctx.options.target,
                        masked=ctx.options.mask_personal, font=str(d.font_path) if d.font_path else None)
    ctx.rendered = render_dossier(ctx.dossier, ctx.work / "rendered.pdf", reproducible=ctx.options.reproducible,
                                  page_hint=hints.load(), text_boxes=text_boxes(ctx.assessment, ctx.options),
                                  cache_root=cache.root)
    hints.save(ctx.rendered.pages, ctx.rendered.page_count)


def attach(ctx: BuildContext) -> None:
    """Originals and manifest into the PDF; a still-valid `stamp` token beside the output too."""
    from evidencekit.integrity.attach import attach_files

    d = ctx.dossier
    token, ctx.token_findings = existing_token(ctx.output, d.manifest)
    attach_files(ctx.work / "rendered.pdf", ctx.work / "final.pdf", exhibits=d.exhibits, manifest=d.manifest,
                 attach_originals=d.originals_attached, reproducible=ctx.options.reproducible,
                 when=d.generated_at, token=token)


def publish(ctx: BuildContext) -> None:
    publish_file(ctx.work / "final.pdf", ctx.output, ctx.options.force)  # the only write to the user's path


def record(ctx: BuildContext) -> None:
    """The numbers the dossier went out with, into case.yaml, so the next build keeps them."""
    ctx.notes += record_in_case(ctx.numbering, ctx.case)


CHECK_STEPS: tuple[Step, ...] = (load, inventory, inspect, number, read, checklist, assess)
BUILD_STEPS: tuple[Step, ...] = (load, output, warm, inventory, inspect, number, read, checklist, assess, strict, mask,
                                 assemble, render, attach, publish, record)


def run_steps(ctx: BuildContext, steps: Sequence[Step]) -> BuildContext:
    with ctx.later:
        for step in steps:
            step(ctx)
    return ctx


def assess_case(root: Path, options: BuildOptions, progress: Progress | None = None,
                case: Case | None = None) -> Assessment:
    """The check steps: everything `check` reports, without drawing a page."""
    ctx = BuildContext(root, options, progress)
    if case is not None:  # already loaded by the caller
        ctx.case = case
    return run_steps(ctx, CHECK_STEPS[1:] if case is not None else CHECK_STEPS).assessment


def build_dossier(root: Path, options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    ctx = run_steps(BuildContext(root, options, progress), BUILD_STEPS)
    r = ctx.rendered
    return BuildResult(ctx.output, ctx.dossier, r.page_count, ctx.output.stat().st_size,
                       ctx.assessment.findings + r.findings + ctx.token_findings,
                       exhibit_pages=r.exhibit_ranges, section_pages=r.section_pages, assessment=ctx.assessed,
                       notes=tuple(ctx.notes))
