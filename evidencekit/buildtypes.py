"""The values a build passes around: BuildOptions in, Assessment (what `check` reports) and
BuildResult (what `build` made) out. Used by the pipeline, the channels, the reports and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from evidencekit.case.inventory import Inventory
from evidencekit.media.base import MAX_EXHIBIT_PAGES
from evidencekit.model import Case, ChecklistItem, Dossier, Exhibit, Finding, Severity, Target
from evidencekit.readfacts import ScreenRead
from evidencekit.rules.catalog import checklist_complete

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
    mask_personal: bool = False  # public postings: personal data masked, no originals (privacy.py)
    renumber: bool = False  # number every exhibit in reading order again, not as case.yaml records
    jobs: int = 0  # worker processes for display copies; 0 = one per available CPU
    cache_dir: Path | None = None
    dpi: int = 150  # display-copy resolution; `pack` lowers it to fit a channel's size limit
    max_exhibit_pages: int = MAX_EXHIBIT_PAGES  # pages one chat transcript or long screenshot may fill
    ocr: bool = True  # read the screenshots' text (readfacts.py); --no-ocr turns it off
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
    screens: tuple[ScreenRead, ...] = ()  # what OCR read per screenshot (readfacts.py)
    ocr_note: str = ""  # how to add OCR, when it is missing and there were screenshots to read


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
    # For the shopper's terminal, not the dossier: exhibit numbers, and what --mask-personal hid.
    notes: tuple[str, ...] = ()
    # The case as assessed, before --mask-personal: the shopper's self-check reads it.
    assessment: Assessment = field(kw_only=True)


def checklist_complete_for(a: Assessment, strict: bool) -> bool:
    """Complete = nothing required is missing; with strict, nothing is weak and no warnings."""
    if not checklist_complete(a.checklist, strict):
        return False
    return not (strict and any(f.severity is not Severity.INFO for f in a.findings))
