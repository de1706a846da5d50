"""The whole product on one screen: case folder in, dossier PDF out.

    build_dossier():  load → inventory → inspect → timeline → checklist → manifest → render
                      → attach → publish

Each stage is a function of the previous stage's values. One bad file becomes a recorded
finding, never a crash; the only step that touches the user's output path is ``publish``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from evidencekit.cache import DisplayCache
from evidencekit.case.inventory import Inventory, scan_evidence
from evidencekit.case.load import load_case
from evidencekit.dossier import assemble_dossier
from evidencekit.errors import ChecklistIncomplete
from evidencekit.integrity.stamp import existing_token
from evidencekit.media.base import MAX_EXHIBIT_PAGES, MediaContext
from evidencekit.media.pool import Progress, available_cpus, inspect_files
from evidencekit.model import (
    Case,
    ChecklistItem,
    Dossier,
    EvidenceKind,
    Exhibit,
    Finding,
    Inspection,
    Severity,
    SourceFile,
    Stamp,
    Status,
    Target,
)
from evidencekit.output import check_output, publish, resolve_output, work_folder
from evidencekit.pdf.layout_hints import LayoutHints
from evidencekit.privacy import mask_assessment
from evidencekit.rules.catalog import (
    advice_for,
    build_checklist,
    checklist_complete,
    exhibit_title,
    load_rules,
)
from evidencekit.timeinfo import date_inspection, time_findings

DEFAULT_ATTACH_LIMIT = 50 * 1024 * 1024


@dataclass(frozen=True)
class BuildOptions:
    target: Target = Target.GENERAL
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
    findings += tuple(time_findings(exhibits))
    ctx.cache.prune()
    return Assessment(case, inventory, exhibits, checklist, findings, advice_for(case, rules))


def build_dossier(root: Path, options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    case = load_case(root)  # a missing folder or bad case.yaml is reported before output problems
    output = resolve_output(root, options.output, options.target)
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
    inspections = inspect_files(case, files, ctx, options.jobs or available_cpus(), progress)

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
