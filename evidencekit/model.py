"""The typed vocabulary shared by every stage of the pipeline.

Frozen dataclasses and enums only: no I/O here. Stages take these in and hand new ones on,
so each stage can be tested with objects built in a line (see tests/factories.py).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from datetime import time as TimeOfDay
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


# ---------------------------------------------------------------------------------------------
# Time and where it came from
# ---------------------------------------------------------------------------------------------


class TimeSource(StrEnum):
    """Where a capture time came from, strongest first (the order resolve_capture_time tries them)."""

    DECLARED = "declared"
    EXIF = "exif"  # EXIF DateTimeOriginal (or DateTimeDigitized): the camera's shutter time
    # The next-best times embedded in a photo, used only when the EXIF capture time is missing
    # (issue 11). They rank below EXIF and above the file name, because they travel with the
    # picture while a name is changed by any rename, and among themselves by what they mean:
    # - XMP photoshop:DateCreated / xmp:CreateDate say "created" and editors (Lightroom,
    #   Photoshop, phone galleries) carry them over from the original shot;
    # - IFD0 DateTime is when the file was last written: the shot for an untouched phone photo,
    #   but the save time of an edited or exported copy;
    # - GPS date/time is an exact UTC clock, but of the position fix, not the shutter: Android
    #   cameras write the last known fix, which can be minutes or hours older than the photo.
    # Values are stored in manifests: add members, never rename one.
    XMP = "xmp"
    EXIF_DATETIME = "exif_datetime"
    GPS = "gps"
    FILENAME = "filename"
    CONTENT = "content"  # times written inside the file itself, e.g. a chat export's messages
    CONTAINER = "container"
    MTIME = "mtime"
    NONE = "none"

    @property
    def label(self) -> str:
        return _TIME_SOURCE_LABELS[self]

    @property
    def weak(self) -> bool:
        return self in (TimeSource.MTIME, TimeSource.NONE)


_TIME_SOURCE_LABELS = {
    TimeSource.DECLARED: "声明",
    TimeSource.EXIF: "EXIF",
    TimeSource.XMP: "XMP 创建时间",
    TimeSource.EXIF_DATETIME: "EXIF 修改时间",
    TimeSource.GPS: "GPS 时间",
    TimeSource.FILENAME: "文件名",
    TimeSource.CONTENT: "聊天内容",
    TimeSource.CONTAINER: "视频元数据",
    TimeSource.MTIME: "文件修改时间",
    TimeSource.NONE: "无",
}


@dataclass(frozen=True)
class Stamp:
    """A point in time plus its provenance. ``time`` is always timezone-aware when set."""

    time: datetime | None
    source: TimeSource
    detail: str = ""  # e.g. the file-name pattern that matched, "保存时间而非拍摄时间"
    has_seconds: bool = True

    @classmethod
    def none(cls) -> Stamp:
        return cls(None, TimeSource.NONE)

    def format_time(self) -> str:
        """``2024-11-14 19:00:12`` (zone named only when it is not UTC+8)."""
        if self.time is None:
            return "时间不明"
        return format_datetime(self.time, self.has_seconds)

    def display(self) -> str:
        """``2024-11-14 19:00:12 (EXIF)`` as shown in the index, timeline and exhibit header."""
        if self.time is None:
            return "时间不明"
        return f"{self.format_time()} ({self.source.label})"


def format_datetime(moment: datetime, with_seconds: bool = True) -> str:
    fmt = "%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M"
    offset = moment.utcoffset()
    text = moment.strftime(fmt)
    if offset is not None and offset != timedelta(hours=8):
        minutes = round(offset.total_seconds() / 60)
        hours, rest = divmod(abs(minutes), 60)
        sign = "-" if minutes < 0 else "+"
        text += " UTC" if minutes == 0 else f" UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return text


_UTC_OFFSET = re.compile(r"(?:UTC|GMT)?\s*(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d\d))?", re.ASCII | re.IGNORECASE)


def parse_utc_offset(text: str | None) -> tzinfo | None:
    """``+08:00``, ``-0530``, ``+8``, ``UTC+9``, ``GMT-03:00`` or ``Z`` as a fixed zone.

    None when absent, unreadable or outside the offsets in use on Earth (-12:00 to +14:00).
    +08:00 is :data:`SHANGHAI` and 0 is UTC. EXIF OffsetTime, case.yaml and file names share this reading.
    """
    if not text:
        return None
    value = text.strip().strip("\x00").strip()
    if value.upper() == "Z":
        return UTC
    m = _UTC_OFFSET.fullmatch(value)
    if not m:
        return None
    hours, minutes = int(m["h"]), int(m["m"] or 0)
    if minutes >= 60:
        return None
    delta = timedelta(hours=hours, minutes=minutes) * (-1 if m["sign"] == "-" else 1)
    if not timedelta(hours=-12) <= delta <= timedelta(hours=14):
        return None
    if delta == timedelta(hours=8):
        return SHANGHAI
    return UTC if not delta else timezone(delta)


# ---------------------------------------------------------------------------------------------
# The case file (case.yaml)
# ---------------------------------------------------------------------------------------------


class EvidenceKind(StrEnum):
    ORDER = "order"
    PRODUCT = "product"
    LIVESTREAM = "livestream"
    CHAT = "chat"
    AFTERSALES = "aftersales"  # the platform's 售后/退款 pages: what was asked, what was decided
    UNBOXING = "unboxing"
    LOGISTICS = "logistics"
    PAYMENT = "payment"
    COMPARISON = "comparison"
    REPORT = "report"
    OTHER = "other"


@dataclass(frozen=True)
class Complainant:
    name: str = ""
    phone: str = ""
    address: str = ""
    email: str = ""


@dataclass(frozen=True)
class Merchant:
    shop_name: str = ""
    company: str = ""
    credit_code: str = ""  # 统一社会信用代码
    address: str = ""


@dataclass(frozen=True)
class Livestream:
    room: str = ""
    host: str = ""
    room_id: str = ""
    time: datetime | None = None
    replay_url: str = ""


@dataclass(frozen=True)
class Order:
    number: str = ""
    time: datetime | None = None
    product: str = ""
    spec: str = ""
    amount: Decimal | None = None  # total actually paid, yuan
    quantity: int | None = None
    category: str = ""  # e.g. "food"; drives 食品安全法 rules
    signed_at: datetime | None = None
    confirmed_receipt: bool | None = None


@dataclass(frozen=True)
class Problem:
    type: str = ""  # key into templates/problem_types.yaml
    summary: str = ""
    details: str = ""
    discovered_at: datetime | None = None


class Target(StrEnum):
    """Where a dossier is sent (``--target``): each has a profile in templates/targets.yaml.

    Values appear in file names (dossier-12315.pdf) and manifests: add members, never rename one.
    """

    GENERAL = "general"
    PLATFORM = "platform"
    COMPLAINT_12315 = "12315"
    EMAIL = "email"
    PAYMENT = "payment"


class Recipient(StrEnum):
    """Whom an email complaint is addressed to (``letter``/``pack --target email --to``): each has
    its salutation, subject and opening in templates/targets.yaml (``email.recipients``)."""

    MERCHANT = "merchant"
    PLATFORM = "platform"
    CONSUMER_ASSOCIATION = "consumer_association"  # 消费者协会 / 消费者权益保护委员会
    MARKET_REGULATION = "market_regulation"  # 市场监督管理部门


class EventChannel(StrEnum):
    """Whom a follow-up went to (case.yaml ``events[].channel``): each has wording in
    templates/followup.yaml."""

    SELLER = "seller"
    PLATFORM = "platform"
    COMPLAINT_12315 = "12315"
    PAYMENT = "payment"
    OTHER = "other"


@dataclass(frozen=True)
class Event:
    """A follow-up: who was contacted, when, what they said."""

    time: datetime | None
    channel: EventChannel
    note: str = ""
    ref: str = ""  # 工单号 / 客服工号


Rect = tuple[int, int, int, int]  # x, y, w, h in original-image pixels


@dataclass(frozen=True)
class EvidenceOverride:
    """Per-file facts the user declared in case.yaml ``evidence:``."""

    file: str  # posix path relative to the case folder
    kind: EvidenceKind | None = None
    title: str = ""
    proves: str = ""
    time: datetime | None = None
    note: str = ""
    redact: tuple[Rect, ...] = ()
    moments: tuple[str, ...] = ()
    number: int | None = None  # the exhibit number recorded by `add`/`build` (证据N), kept across builds


@dataclass(frozen=True)
class Case:
    root: Path
    has_case_file: bool = True
    schema: int = 1
    platform: str = ""  # douyin | taobao | kuaishou | other | "" (unknown)
    platform_name: str = ""
    complainant: Complainant = field(default_factory=Complainant)
    merchant: Merchant = field(default_factory=Merchant)
    livestream: Livestream = field(default_factory=Livestream)
    order: Order = field(default_factory=Order)
    problem: Problem = field(default_factory=Problem)
    claims: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()
    evidence: tuple[EvidenceOverride, ...] = ()
    # (number, file) of evidence entries whose file is gone: their numbers are not given again.
    retired_numbers: tuple[tuple[int, str], ...] = ()
    tz: tzinfo = SHANGHAI

    @property
    def evidence_dir(self) -> Path:
        return self.root / "evidence"

    def override_for(self, rel_path: str) -> EvidenceOverride | None:
        for item in self.evidence:
            if item.file == rel_path:
                return item
        return None


# ---------------------------------------------------------------------------------------------
# Inventory: what is in the case folder
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileIdentity:
    """Which file was hashed, and in what state: the descriptor's fstat while hashing.

    A decoder that opens the original later checks it still has exactly this identity (same
    inode, size and change times), so a file swapped or rewritten after hashing is never shown.
    """

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class SourceFile:
    """An original evidence file, hashed before anything else read it."""

    rel_path: str  # posix, NFC, relative to the case folder, e.g. "evidence/order/a.png"
    path: Path  # absolute path of the original (never written to)
    size: int
    sha256: str
    mtime: datetime  # aware
    kind: EvidenceKind
    kind_from_folder: bool  # False when the folder did not tell us (kind OTHER by default)
    # The hashed file's identity (inventory); None for files described by hand (tests), which
    # evidencekit.integrity.originals then re-hashes before decoding.
    identity: FileIdentity | None = None

    @property
    def name(self) -> str:
        return self.rel_path.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()


# Cc: control characters (ESC, BEL, newline …); Cf: format characters, among them every bidi
# control (U+200E/F, U+202A–E, U+2066–9) and zero-width joiners.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})


def attachment_file_name(number: int, name: str) -> str:
    """``证据03_原名.jpg``, the name an original is attached under: sorts in exhibit order, keeps
    the original name (NFC) without control or bidi characters (U+202E would show
    "invoice\u202egpj.exe" as "invoiceexe.jpg"). attach.py writes it, verify looks it up."""
    name = unicodedata.normalize("NFC", name)
    kept = "".join(ch for ch in name if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    return f"证据{number:02d}_{kept or 'file'}"


@dataclass(frozen=True)
class RefusedFile:
    """Something in evidence/ we would not read (a link leaving the folder, a device file, ...)."""

    rel_path: str
    reason: str  # Chinese


# ---------------------------------------------------------------------------------------------
# Findings (checklist, warnings)
# ---------------------------------------------------------------------------------------------


class Status(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    WEAK = "weak"

    @property
    def label(self) -> str:
        return {"present": "已具备", "missing": "缺少", "weak": "较弱"}[self.value]


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"  # weak evidence; with --strict becomes exit 6
    ERROR = "error"  # required item missing; exit 6 in check


@dataclass(frozen=True)
class Finding:
    """Something the user should know about one file or the case as a whole."""

    severity: Severity
    code: str  # stable machine id, e.g. "time.mtime_only"
    message: str  # Chinese
    subject: str = ""  # rel_path or key path it concerns


@dataclass(frozen=True)
class ChecklistItem:
    key: str  # e.g. "evidence.livestream" or "field.complainant.phone"
    label: str  # Chinese
    required: bool
    status: Status
    reason: str  # Chinese, for the applicant: why present/missing/weak, which key or folder
    exhibits: tuple[int, ...] = ()
    # Chinese, for the recipient's 证据清单: the facts this item claims; "" = not claimed there
    statement: str = ""


# ---------------------------------------------------------------------------------------------
# Media inspection results
# ---------------------------------------------------------------------------------------------


class MediaType(StrEnum):
    IMAGE = "image"
    CHAT = "chat"  # a text chat export
    VIDEO = "video"
    AUDIO = "audio"
    PDF = "pdf"
    TEXT = "text"  # a text file no chat parser recognised
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DisplayImage:
    """A display copy (JPEG/PNG file) ready for the PDF. Never the original."""

    path: Path
    width: int  # pixels
    height: int
    sha256: str  # of the display-copy file
    caption: str = ""  # e.g. "第 1/3 段", "00:00:07 · 2024-11-11 20:30:07"


class ChatSide(StrEnum):
    """Who wrote a chat message: the shopper, the merchant (or anyone else), or the app itself."""

    SELF = "self"
    OTHER = "other"
    SYSTEM = "system"


@dataclass(frozen=True)
class ChatMessage:
    time: datetime | None
    speaker: str
    text: str
    side: ChatSide
    has_seconds: bool = True
    # Copies that write only a time of day (QQNT, QQ mobile without a date line): ``time`` is None
    # and this holds what the copy wrote; no date is invented.
    clock: TimeOfDay | None = None


class ChatFormat(StrEnum):
    """Which chat export a transcript was read from (media/chats.py); each has a Chinese name in
    templates/chat_formats.yaml. Values are printed by `inspect --json`: add members, never rename one."""

    QQ = "qq"  # QQ 消息管理器 TXT export
    QQ_WINDOW = "qq_window"
    QQ_MOBILE = "qq_mobile"
    QQNT = "qqnt"  # times of day only, no dates
    QIANNIU = "qianniu"
    WECHATMSG = "wechatmsg"
    WECHAT_CSV = "wechat_csv"
    WECHATEXPORTER = "wechatexporter"
    WECHAT = "wechat"
    WECHAT_WIN = "wechat_win"
    PLAIN = "plain"
    UNKNOWN = "unknown"  # no parser recognised the text; shown as is


@dataclass(frozen=True)
class Transcript:
    format: ChatFormat
    encoding: str  # "utf-8", "utf-8-sig", "gb18030", ...
    messages: tuple[ChatMessage, ...] = ()
    raw_text: str = ""  # for unknown formats: the decoded text, shown as is (up to the page cap)
    # The page cap (media.base.MAX_EXHIBIT_PAGES): how many messages the dossier shows, None for
    # all; for unknown formats cut to the cap, raw_text holds the lines shown and raw_lines
    # counts the lines of the whole text.
    shown: int | None = None
    raw_lines: int = 0


@dataclass(frozen=True)
class Frame:
    """A frame from a recording: a declared moment or a contact-sheet tile."""

    image: DisplayImage
    offset: float  # seconds from the start
    wall_time: datetime | None
    caption: str = ""
    declared: bool = False
    # A contact-sheet tile that also stands for later sampled times whose frames looked the
    # same: the offset of the last of them (None when the tile stands for its own time only).
    until: float | None = None


@dataclass(frozen=True)
class Moment:
    """A declared moment in a recording or call: ``"00:12:31 主播承诺假一赔十"``."""

    offset: float
    caption: str
    wall_time: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class InspectionBase:
    """What a media module learned about one original, and the display copies it made.

    One subclass per media kind, each with only the fields its module sets; ``Inspection`` is
    their union, so a consumer matches on the kind before it reads a kind's field.
    """

    media: ClassVar[MediaType]
    findings: tuple[Finding, ...] = ()
    preview_error: str = ""  # Chinese reason there is no preview; empty when there is one
    embedded_time: Stamp | None = None  # EXIF or container time, if any


@dataclass(frozen=True, kw_only=True)
class ImageInspection(InspectionBase):
    media: ClassVar[MediaType] = MediaType.IMAGE
    images: tuple[DisplayImage, ...] = ()  # the photo, or the segments of a long screenshot
    width: int | None = None  # upright pixels, also known when the pixels could not be decoded
    height: int | None = None
    removed_metadata: tuple[str, ...] = ()  # e.g. ("GPS", "BodySerialNumber", "MakerNote")
    redacted: bool = False


@dataclass(frozen=True, kw_only=True)
class ChatInspection(InspectionBase):
    """A chat export one of the parsers recognised."""

    media: ClassVar[MediaType] = MediaType.CHAT
    transcript: Transcript


@dataclass(frozen=True, kw_only=True)
class TextInspection(InspectionBase):
    """A text file no chat parser recognised: shown as raw text (no transcript if unreadable)."""

    media: ClassVar[MediaType] = MediaType.TEXT
    transcript: Transcript | None = None


@dataclass(frozen=True, kw_only=True)
class RecordingInspection(InspectionBase):
    """What video and audio share: declared moments on a clock that starts with the recording."""

    moments: tuple[Moment, ...] = ()
    duration: float | None = None  # seconds
    start_time: datetime | None = None  # recording start used for wall-clock times


@dataclass(frozen=True, kw_only=True)
class VideoInspection(RecordingInspection):
    media: ClassVar[MediaType] = MediaType.VIDEO
    frames: tuple[Frame, ...] = ()  # declared moments first, then the contact sheet
    sheet_samples: int = 0  # evenly spread times sampled to choose the contact sheet
    sheet_blank: int = 0  # of those, samples not shown because the frame was one flat colour
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, kw_only=True)
class AudioInspection(RecordingInspection):
    media: ClassVar[MediaType] = MediaType.AUDIO


@dataclass(frozen=True, kw_only=True)
class PdfInspection(InspectionBase):
    media: ClassVar[MediaType] = MediaType.PDF
    images: tuple[DisplayImage, ...] = ()  # the first pages, up to the page cap
    page_count: int | None = None  # pages in the whole file


@dataclass(frozen=True, kw_only=True)
class UnknownInspection(InspectionBase):
    """A file no media module could read: unsupported, changed, or failed; hashed and attached."""

    media: ClassVar[MediaType] = MediaType.UNKNOWN


Inspection = (ImageInspection | ChatInspection | TextInspection | VideoInspection | AudioInspection
              | PdfInspection | UnknownInspection)


def display_images(insp: Inspection) -> tuple[DisplayImage, ...]:
    """Every display copy made of the original: a photo's or PDF's pages, a recording's frames."""
    match insp:
        case ImageInspection() | PdfInspection():
            return insp.images
        case VideoInspection():
            return tuple(frame.image for frame in insp.frames)
    return ()


def transcript_of(insp: Inspection) -> Transcript | None:
    """The transcript of a chat export or a text file; None for every other kind."""
    return insp.transcript if isinstance(insp, ChatInspection | TextInspection) else None


def failed_inspection(media: MediaType, preview_error: str, findings: tuple[Finding, ...]) -> Inspection:
    """The inspection of an original of kind ``media`` that yielded no preview. Any kind but
    CHAT: a chat inspection has a transcript, an unreadable chat export is a TEXT one."""
    return _BY_MEDIA[media](preview_error=preview_error, findings=findings)


_BY_MEDIA: dict[MediaType, type[ImageInspection | TextInspection | VideoInspection | AudioInspection
                                 | PdfInspection | UnknownInspection]] = {
    MediaType.IMAGE: ImageInspection,
    MediaType.TEXT: TextInspection,
    MediaType.VIDEO: VideoInspection,
    MediaType.AUDIO: AudioInspection,
    MediaType.PDF: PdfInspection,
    MediaType.UNKNOWN: UnknownInspection,
}


# ---------------------------------------------------------------------------------------------
# The assembled dossier
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exhibit:
    number: int  # 证据 N, 1-based in index order
    source: SourceFile
    kind: EvidenceKind
    title: str
    proves: str
    note: str
    stamp: Stamp
    inspection: Inspection

    @property
    def label(self) -> str:
        return f"证据{self.number}"


class TimelineCategory(StrEnum):
    """What a timeline row is about (pdf/timeline.py gives each a Chinese label)."""

    LIVESTREAM = "livestream"
    ORDER = "order"
    PAYMENT = "payment"
    DELIVERY = "delivery"
    DISCOVERY = "discovery"
    EVENT = "event"
    EXHIBIT = "exhibit"
    MOMENT = "moment"
    CHAT = "chat"


@dataclass(frozen=True)
class TimelineEntry:
    time: datetime
    label: str  # Chinese
    category: TimelineCategory
    exhibit: int | None = None
    flag: str = ""  # e.g. "商家超过 48 小时未回复"
    has_seconds: bool = True


@dataclass(frozen=True)
class LegalBasis:
    law: str  # 《消费者权益保护法》
    article: str  # 第五十五条
    summary: str  # our own wording


@dataclass(frozen=True)
class StatutoryAmount:
    law: str
    article: str
    amount: Decimal
    arithmetic: str  # "3 × ¥399.00 = ¥1,197.00（不足 ¥500 按 ¥500）"


@dataclass(frozen=True)
class Dossier:
    """Everything the renderer needs; built by pipeline.py, read by pdf/."""

    case: Case
    case_id: str
    target: Target
    title: str
    exhibits: tuple[Exhibit, ...]
    refused: tuple[RefusedFile, ...]
    timeline: tuple[TimelineEntry, ...]
    checklist: tuple[ChecklistItem, ...]
    findings: tuple[Finding, ...]
    legal: tuple[LegalBasis, ...]
    amounts: tuple[StatutoryAmount, ...]
    generated_at: datetime
    tool_version: str
    fingerprint: str  # SHA-256 of the manifest JSON
    manifest: bytes  # the manifest JSON, attached to the PDF
    urgency: str = ""  # Chinese label, e.g. "紧急（24 小时内处理）"
    section_order: tuple[str, ...] = (
        "cover",
        "summary",
        "checklist",
        "index",
        "timeline",
        "exhibits",
        "appendix",
    )
    originals_attached: bool = True
    font_path: Path | None = None  # a user's --font; None = the bundled WenQuanYi Micro Hei
    target_label: str = ""  # e.g. "全国12315平台"
    # Wording from templates/evidence_kinds.yaml, keyed by EvidenceKind.value
    kind_labels: dict[str, str] = field(default_factory=dict)  # "order" -> "订单截图"
    kind_sources: dict[str, str] = field(default_factory=dict)  # "order" -> "申请人手机截图"
    problem_label: str = ""  # e.g. "与直播展示完全不符"
    platform_label: str = ""  # rules.platform_display_name; "" when the case names no platform
    claim_labels: tuple[str, ...] = ()  # Chinese labels of case.claims, in order
