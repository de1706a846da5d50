"""What the screenshots say: the OCR step of check and build, and what its reading is compared with.

:func:`read_screens` runs media.ocr on the exhibits of the kinds templates/ocr_fields.yaml lists
(``screens.kinds``), in parallel (each OCR runs in its own budgeted child process, so threads
only wait for them), and keeps per exhibit the text boxes, the facts rules.ocr_fields reads in
them and the status bar's clock. :func:`screen_findings` compares them with case.yaml (order
number, amount, order, payment and sign-off dates) and with the exhibit's time (the clock, within
``screens.tolerance_minutes``); a screenshot showing no date or time at all is weak.
:func:`proposals_from` gives the facts as case.yaml values, for `init --from`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from evidencekit.errors import EvidenceKitError
from evidencekit.media.base import MediaContext
from evidencekit.media.ocr import OcrResult, ocr_image, ocr_unavailable_reason
from evidencekit.media.pool import Progress
from evidencekit.model import (
    Case,
    Exhibit,
    Finding,
    ImageInspection,
    Inspection,
    Severity,
    SourceFile,
    Stamp,
    TimeSource,
)
from evidencekit.rules.filename_times import is_save_time
from evidencekit.rules.ocr_fields import OcrFieldRules, ReadFact, TextBox, extract_facts

if TYPE_CHECKING:
    from evidencekit.buildtypes import Assessment, BuildOptions

# Facts that are times (ocr_fields.yaml kind: time) and can be compared with case.yaml.
TIME_FIELDS = ("order_time", "payment_time", "sign_off_time")
# Which case.yaml key a read fact proposes a value for; the first exhibit that shows it wins.
# A payment time stands in for the order time only when no screenshot shows the order time.
CASE_KEYS = (
    ("order_number", "order.number"),
    ("amount", "order.amount"),
    ("order_time", "order.time"),
    ("payment_time", "order.time"),
    ("shop", "merchant.shop_name"),
    ("product", "order.product"),
    ("sign_off_time", "order.signed_at"),
)
# File times a clock is compared with: a file's modification time says nothing about the shot.
_COMPARED_SOURCES = frozenset(TimeSource) - {TimeSource.MTIME, TimeSource.NONE}
PROGRESS_LABEL = "文字识别"


@dataclass(frozen=True)
class ScreenRead:
    """What OCR read on one exhibit: its boxes (in the upright original's pixels), the facts in
    them, and the status bar's clock (``10:41``, "" when none was seen)."""

    number: int  # the exhibit's number (证据N)
    rel_path: str
    boxes: tuple[TextBox, ...]
    facts: tuple[ReadFact, ...]
    clock: str = ""
    # The first date and time in any box (2024-11-10 20:31), labelled or not: what makes a screenshot dated.
    dated: str = ""
    error: str = ""  # Chinese: why nothing was read

    def fact(self, field: str) -> ReadFact | None:
        return next((f for f in self.facts if f.field == field), None)

    @property
    def shows_time(self) -> bool:
        return bool(self.clock or self.dated) or any(f.field in TIME_FIELDS for f in self.facts)


def screens_to_read(exhibits: Sequence[Exhibit], rules: OcrFieldRules) -> list[Exhibit]:
    """The exhibits OCR reads: still images of the kinds ``screens.kinds`` lists."""
    return [ex for ex in exhibits if ex.kind in rules.screens.kinds and isinstance(ex.inspection, ImageInspection)
            and not ex.inspection.preview_error]


def read_screens(exhibits: Sequence[Exhibit], media: MediaContext, rules: OcrFieldRules, jobs: int,
                 progress: Progress | None) -> tuple[tuple[ScreenRead, ...], str]:
    """OCR of every screenshot the template names, in exhibit order; and, when the extra is
    missing and there was something to read, the one note saying how to add it."""
    todo = screens_to_read(exhibits, rules)
    if not todo:
        return (), ""
    missing = ocr_unavailable_reason()
    if missing is not None:
        return (), missing
    total = len(todo)
    reads: list[ScreenRead] = []
    workers = max(1, min(jobs, total))
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 else contextlib.nullcontext() as pool:
        # One at a time in this thread, or as many at once as there are jobs (each waits for its child);
        # leaving the loop early (Ctrl-C) cancels, through map, the screenshots not yet started.
        mapped = pool.map(lambda ex: _read_one(ex, media, rules), todo) if pool is not None else (
            _read_one(ex, media, rules) for ex in todo)
        for done, read in enumerate(mapped, start=1):
            reads.append(read)
            if progress:
                progress(done, total, f"{PROGRESS_LABEL} {read.rel_path}")
    if progress:
        progress(total, total, PROGRESS_LABEL)
    return tuple(reads), ""


def _read_one(ex: Exhibit, media: MediaContext, rules: OcrFieldRules) -> ScreenRead:
    return read_screen(ex.source, ex.inspection, media, rules, ex.number)


def read_screen(source: SourceFile, inspection: Inspection, media: MediaContext, rules: OcrFieldRules,
                number: int = 0) -> ScreenRead:
    """OCR of one still image (cached by media.ocr), its facts and its status bar clock."""
    try:
        result = ocr_image(source, media)
    except EvidenceKitError as exc:  # its child died (WorkerFailed): this screenshot is not read
        result = OcrResult(error=exc.render())
    height = inspection.height if isinstance(inspection, ImageInspection) else None
    return ScreenRead(number, source.rel_path, result.boxes, extract_facts(result.boxes, rules),
                      clock=_clock(result.boxes, height, rules), dated=_dated(result.boxes, rules),
                      error=result.error)


def _clock(boxes: Sequence[TextBox], height: int | None, rules: OcrFieldRules) -> str:
    """The status bar's clock: a box at the very top that holds only a time of day."""
    if not height:
        return ""
    band = height * rules.screens.clock_band
    for b in sorted(boxes, key=lambda b: (b.top, b.left)):
        if b.bottom > band:
            break
        m = rules.screens.clock.fullmatch(b.text.strip())
        if m is not None and int(m.group("H")) < 24:
            return f"{int(m.group('H')):02d}:{m.group('M')}"
    return ""


def _dated(boxes: Sequence[TextBox], rules: OcrFieldRules) -> str:
    """The first date and time (patterns.time) in reading order, as ``2024-11-10 20:31``."""
    for b in sorted(boxes, key=lambda b: (b.top, b.left)):
        m = rules.time.search(b.text)
        if m is not None:
            parts = [int(m.group(g)) for g in ("Y", "m", "d", "H", "M")]
            return "{:04d}-{:02d}-{:02d} {:02d}:{:02d}".format(*parts)
    return ""


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------


def screen_findings(case: Case, exhibits: Sequence[Exhibit], reads: Sequence[ScreenRead],
                    rules: OcrFieldRules) -> tuple[Finding, ...]:
    """Where case.yaml and a screenshot disagree, clocks off the file's time, screenshots without a time."""
    by_number = {ex.number: ex for ex in exhibits}
    out: list[Finding] = []
    for read in reads:
        ex = by_number.get(read.number)
        if ex is None or read.error:
            continue
        out += _case_findings(case, ex, read)
        out += clock_findings(ex.label, ex.stamp, read, case.tz, rules.screens.tolerance_minutes)
        if not read.shows_time:
            out.append(Finding(Severity.WARNING, "ocr.no_visible_time",
                               f"{ex.label} 截图上看不到日期或时间（状态栏时钟、下单或付款时间），"
                               "官方可能不采信；请补一张能看到时间的截图", read.rel_path))
    return tuple(out)


def _case_findings(case: Case, ex: Exhibit, read: ScreenRead) -> list[Finding]:
    out = []
    order = case.order
    number = read.fact("order_number")
    if number is not None and order.number and _code(order.number) != number.value:
        out.append(_differs(ex, read, "order_number", "订单编号", "order.number", order.number, number.value))
    amount = read.fact("amount")
    if amount is not None and order.amount is not None and _decimal(amount.value) not in (None, order.amount):
        out.append(_differs(ex, read, "amount", "金额", "order.amount", f"{order.amount:.2f}", amount.value))
    for field, key, name, when in (("order_time", "order.time", "下单时间", order.time),
                                   ("payment_time", "order.time", "下单时间", order.time),
                                   ("sign_off_time", "order.signed_at", "签收时间", order.signed_at)):
        fact = read.fact(field)
        if fact is None or when is None:
            continue
        if field == "payment_time" and read.fact("order_time") is not None:
            continue  # the order time on the same screenshot is the one to compare
        shown = _moment(fact.value, case.tz)
        if shown is None or _same_time(when.astimezone(case.tz), shown, dates_only=field == "payment_time"):
            continue
        label = "付款时间" if field == "payment_time" else name
        out.append(_differs(ex, read, field, name, key, _case_time(when.astimezone(case.tz)),
                            fact.value, shown_as=label))
    return out


def _differs(ex: Exhibit, read: ScreenRead, code: str, name: str, key: str, ours: str, shown: str,
             shown_as: str = "") -> Finding:
    return Finding(Severity.WARNING, f"ocr.{code}_differs",
                   f"case.yaml 的{name}（{key}）是 {ours}，{ex.label} 截图上的{shown_as or name}是 {shown}，"
                   "请核对：与证据不一致的投诉可能不被受理", read.rel_path)


def clock_findings(label: str, stamp: Stamp, read: ScreenRead, tz: tzinfo, tolerance: int) -> list[Finding]:
    """The status bar's clock against the file's own time, to the minute: not against a modification
    time, nor a chat app's save time (any time after the screenshot)."""
    if not read.clock or stamp.time is None or stamp.source not in _COMPARED_SOURCES or is_save_time(stamp):
        return []
    local = stamp.time.astimezone(tz)
    hours, minutes = (int(part) for part in read.clock.split(":"))
    apart = abs(hours * 60 + minutes - (local.hour * 60 + local.minute))
    apart = min(apart, 24 * 60 - apart)
    if apart <= tolerance:
        return []
    return [Finding(Severity.WARNING, "ocr.clock_differs",
                    f"{label} 截图状态栏的时间是 {read.clock}，{stamp.source.label}时间是 {local:%H:%M}"
                    f"（{local:%Y-%m-%d %H:%M:%S}），相差 {apart} 分钟（超过 {tolerance} 分钟）；"
                    "请核对文件是否改过名或时间，或在 case.yaml 的 evidence: 中写明 time", read.rel_path)]


def _code(text: str) -> str:
    return "".join(text.split())


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _moment(value: str, tz: tzinfo) -> datetime | None:
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=tz)
        except ValueError:
            continue
    return None


def _same_time(ours: datetime, shown: datetime, dates_only: bool) -> bool:
    """case.yaml's time written as a date alone (midnight) is compared by its date, else to the minute."""
    if dates_only or (ours.hour, ours.minute, ours.second) == (0, 0, 0):
        return ours.date() == shown.date()
    return ours.replace(second=0, microsecond=0) == shown.replace(second=0, microsecond=0)


def _case_time(when: datetime) -> str:
    if (when.hour, when.minute, when.second) == (0, 0, 0):
        return when.date().isoformat()
    return f"{when:%Y-%m-%d %H:%M:%S}"


# ---------------------------------------------------------------------------------------------
# For init --from
# ---------------------------------------------------------------------------------------------


def proposals_from(assessment: Assessment) -> dict[str, tuple[str, int]]:
    """case.yaml key path -> (value as read, number of the exhibit it was read from); for each
    key the first exhibit (in number order) that shows it."""
    out: dict[str, tuple[str, int]] = {}
    reads = sorted(assessment.screens, key=lambda r: r.number)
    for field, key in CASE_KEYS:
        if key in out:
            continue
        for read in reads:
            fact = read.fact(field)
            if fact is not None:
                out[key] = (fact.value, read.number)
                break
    return out


def text_boxes(assessment: Assessment, options: BuildOptions) -> dict[int, tuple[TextBox, ...]]:
    """The boxes to lay invisibly over each screenshot of the dossier, by exhibit number; none
    for --mask-personal (a screenshot's text may hold names, phone numbers and addresses)."""
    if options.mask_personal:
        return {}
    return {r.number: r.boxes for r in assessment.screens if r.boxes}


def visible_times(read: ScreenRead) -> list[str]:
    """The times a screenshot shows, for the terminal: the clock first, then each time fact."""
    shown = [f"状态栏 {read.clock}"] if read.clock else []
    facts = [f"{f.name} {f.value}" for f in read.facts if f.field in TIME_FIELDS]
    if not facts and read.dated:
        facts = [read.dated]  # under a label the template does not know
    return shown + facts
