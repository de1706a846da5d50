"""Fonts for the dossier: embedded TrueType subsets, a coverage check, and per-run fallback.

reportlab silently draws nothing for a character the font lacks, so every
piece of text goes through :class:`FontSet`, which splits it into runs by the first font that
covers each character (the user's ``--font``, then the bundled WenQuanYi Micro Hei, then a few
system TrueType fonts if present) and replaces what no font covers with a visible
``[U+XXXX]`` marker that is reported once as a finding.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import mmap
import os
import unicodedata
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from evidencekit.cache import default_cache_dir, write_entry
from evidencekit.errors import FontError
from evidencekit.interrupt import reraise_if_terminated
from evidencekit.model import Finding, Severity

BUNDLED_FONT_FILE = "wqy-microhei.ttc"
BUNDLED_FACE_INDEX = 0  # [0] WenQuanYi Micro Hei, [1] its monospaced face
BUNDLED_MONO_INDEX = 1

# Looked at only when a character is missing from both the primary and the bundled font, so a
# normal dossier never pays for loading them. CFF fonts (Noto CJK) are rejected by reportlab and
# simply skipped.
SYSTEM_FALLBACK_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/seguisym.ttf",
)

MISSING_GLYPH_CODE = "font.missing_glyph"


@dataclass(frozen=True)
class LoadedFont:
    """A registered TrueType face and the code points it can draw."""

    name: str  # the name registered with reportlab
    path: str
    index: int
    cmap: Mapping[int, int] = field(compare=False, repr=False)  # reportlab's charToGlyph, not a copy

    def covers(self, cp: int) -> bool:
        # charToGlyph holds exactly the cmap entries; glyph 0 is .notdef, i.e. not really covered.
        return bool(self.cmap.get(cp))


_REGISTERED: dict[tuple[str, int], LoadedFont] = {}


def _register(path: str, index: int, data_source: Path | None = None) -> LoadedFont:
    """Register ``path`` (face ``index``) once per process; reportlab's registry is global."""
    key = (path, index)
    cached = _REGISTERED.get(key)
    if cached is not None:
        return cached
    name = "EK" + hashlib.sha1(f"{path}\0{index}".encode()).hexdigest()[:12]
    # The bundled file is ours and read only: mapped, not copied. A user's font file could change
    # under a mapping (a truncated file is a SIGBUS), so it is read.
    font = _load_ttfont(name, Path(data_source or path), index, mapped=data_source is not None)
    # Map every style of the family to the same face: markup like <b> must never fall back to
    # the unembedded standard-14 Helvetica.
    pdfmetrics.registerFont(font)
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
    loaded = LoadedFont(name=name, path=path, index=index, cmap=font.face.charToGlyph)
    _REGISTERED[key] = loaded
    return loaded


# ---------------------------------------------------------------------------------------------
# Parsed-face cache. reportlab parses a face's cmap and metrics in pure Python: 0.11 s per face,
# a quarter of a warm rebuild's render time. The parsed state is plain data (dicts, lists,
# ints, bytes), so it is kept with ``marshal`` — no code is ever loaded from the cache — keyed by
# the font file's SHA-256, the face index and the reportlab version. Any problem with the cache
# falls back to parsing.
# ---------------------------------------------------------------------------------------------

_NOT_CACHED = ("_pdfScale", "_ttf_data")
_CACHE_FORMAT = 2  # 2: compact metrics and glyph offsets (bytes), no glyphToChar

# Two faces of one file (the bundled regular and mono faces) share its bytes and, where equal,
# their metrics and glyph offsets: the last file read (with its SHA-256) and the compact tables
# made so far.
_last_file: tuple[Path, bytes | mmap.mmap, str] | None = None
_shared_tables: dict[bytes, array[int]] = {}
# The SHA-256 of each registered face's font file, by registered name (linecache.py keys on it).
_FILE_DIGESTS: dict[str, str] = {}


def file_digest(name: str) -> str | None:
    """The SHA-256 of the font file behind a face this module registered, None for any other."""
    return _FILE_DIGESTS.get(name)


class _Metrics:
    """reportlab's ``hmetrics`` (a list of ``(advance, lsb)`` pairs, one per glyph, read only by
    subsetting) as two arrays: 0.5 MB instead of 5 MB per face."""

    __slots__ = ("advances", "bearings")

    def __init__(self, advances: array[int], bearings: array[int]) -> None:
        self.advances, self.bearings = advances, bearings

    def __getitem__(self, glyph: int) -> tuple[float, int]:
        return self.advances[glyph], self.bearings[glyph]

    def __len__(self) -> int:
        return len(self.advances)


def _table(typecode: str, data: bytes) -> array[int]:
    key = hashlib.sha256(typecode.encode() + data).digest()
    table = _shared_tables.get(key)
    if table is None:
        table = _shared_tables[key] = array(typecode)
        table.frombytes(data)
    return table


def _compact_state(state: dict[str, object]) -> dict[str, object]:
    """The parsed face as plain data (for marshal) with its big per-glyph lists as bytes.

    ``glyphToChar`` is read only by reportlab's text shaping, which needs uharfbuzz (not a
    dependency); it is kept when uharfbuzz is installed."""
    out = dict(state)
    hmetrics = out.pop("hmetrics")
    glyph_pos = out.pop("glyphPos")
    if not (isinstance(hmetrics, list) and isinstance(glyph_pos, list)):
        raise TypeError("reportlab changed how it keeps a face's metrics")
    # Advances past numberOfHMetrics are reportlab's scaled floats; subsetting writes int(aw).
    out["hmetrics"] = (array("d", (aw for aw, _ in hmetrics)).tobytes(),
                       array("H", (lsb for _, lsb in hmetrics)).tobytes())
    out["glyphPos"] = array("I", glyph_pos).tobytes()
    if find_spec("uharfbuzz") is None:
        out["glyphToChar"] = {}
    return out


def _apply_state(face: object, state: dict[str, object], data: bytes | mmap.mmap) -> None:
    """Set a face's attributes from :func:`_compact_state`'s form, its tables shared."""
    attrs = dict(state)
    hmetrics, glyph_pos = attrs.pop("hmetrics"), attrs.pop("glyphPos")
    if not (isinstance(hmetrics, tuple) and len(hmetrics) == 2 and isinstance(glyph_pos, bytes)):
        raise ValueError("not a compact face")  # a cache entry of another form: parse instead
    attrs["hmetrics"] = _Metrics(_table("d", hmetrics[0]), _table("H", hmetrics[1]))
    attrs["glyphPos"] = _table("I", glyph_pos)
    vars(face).update(attrs)
    face._ttf_data = data  # type: ignore[attr-defined]


def _read_font_file(path: Path, mapped: bool) -> tuple[bytes | mmap.mmap, str]:
    """The file's bytes and their SHA-256; ``mapped``: a read-only mapping on POSIX, whose pages
    count in this process's memory only while recently read (parsing, subsetting)."""
    global _last_file
    if _last_file is not None and _last_file[0] == path:
        return _last_file[1], _last_file[2]
    data: bytes | mmap.mmap | None = None
    if mapped and os.name == "posix":
        with contextlib.suppress(OSError, ValueError), path.open("rb") as fh:  # ValueError: empty
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    if data is None:
        data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    _last_file = (path, data, digest)
    return data, digest


def _release_pages(data: bytes | mmap.mmap) -> None:
    """Drop a mapping's pages from this process (they stay in the page cache, a read maps them
    again): hashing the file for the face cache read all of it."""
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        with contextlib.suppress(OSError, ValueError):
            data.madvise(mmap.MADV_DONTNEED)


def _face_cache_file(digest: str, index: int) -> Path:
    import reportlab

    name = f"{digest[:24]}-{index}-rl{reportlab.Version}-f{_CACHE_FORMAT}.marshal"
    return default_cache_dir() / "fonts" / name


def _load_ttfont(name: str, path: Path, index: int, *, mapped: bool = False) -> TTFont:
    from reportlab.pdfbase import ttfonts

    data, digest = _read_font_file(path, mapped)
    _FILE_DIGESTS[name] = digest
    cache_file = _face_cache_file(digest, index)
    _release_pages(data)
    try:
        state = marshal.loads(cache_file.read_bytes())
        face = ttfonts.TTFontFace.__new__(ttfonts.TTFontFace)
        _apply_state(face, state, data)
        units = face.unitsPerEm
        face._pdfScale = (lambda x: x) if units == 1000 else (lambda x: x * (1000 / units))
        original = ttfonts.TTFontFace
        ttfonts.TTFontFace = lambda *args, **kwargs: face  # TTFont.__init__ looks it up here
        try:
            return TTFont(name, str(path), subfontIndex=index)
        finally:
            ttfonts.TTFontFace = original
    except (OSError, ValueError, EOFError, TypeError, AttributeError, KeyError):
        pass
    try:
        font = TTFont(name, str(path), subfontIndex=index)
    except TTFError:
        reraise_if_terminated()  # reportlab's bare except turned our SIGTERM into a TTFError
        raise
    try:
        state = _compact_state({k: v for k, v in vars(font.face).items() if k not in _NOT_CACHED})
        _apply_state(font.face, state, data)  # the same compact tables as a cache hit gives
    except (TypeError, ValueError):
        return font  # a reportlab that keeps its faces otherwise: used as it is, not cached
    with contextlib.suppress(OSError, ValueError):  # a read-only cache folder only costs time
        write_entry(cache_file, marshal.dumps(state))
    return font


def _load_bundled(index: int) -> LoadedFont:
    ref = resources.files("evidencekit.fonts") / BUNDLED_FONT_FILE
    with resources.as_file(ref) as real_path:
        # TTFont reads the whole file into memory, so the temporary path (zip installs) may go.
        return _register(f"bundled:{BUNDLED_FONT_FILE}", index, data_source=real_path)


def _load_user_font(path: Path) -> LoadedFont:
    if not path.is_file():
        raise FontError(f"找不到字体文件：{path}", hint="--font 需要一个 TrueType 字体文件（.ttf 或 .ttc）。")
    try:
        return _register(str(path.resolve()), 0)
    except (TTFError, OSError, ValueError, KeyError, IndexError) as exc:
        raise FontError(
            f"无法使用字体文件 {path}：{exc}",
            hint="只支持 TrueType 轮廓的字体（.ttf/.ttc）；思源/Noto CJK 等 OpenType CFF 字体不受支持。"
            "不加 --font 即使用内置的文泉驿微米黑。",
        ) from exc


def _is_invisible(ch: str) -> bool:
    """Format characters and variation selectors carry no glyph of their own."""
    cp = ord(ch)
    return unicodedata.category(ch) == "Cf" or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _is_unprintable(ch: str) -> bool:
    """Controls and lone surrogates (undecodable file-name bytes) must never reach the PDF."""
    return unicodedata.category(ch) in ("Cc", "Cs")


def marker(cp: int) -> str:
    return f"[U+{cp:04X}]"


@dataclass
class FontSet:
    """The fonts of one dossier and what could not be drawn with any of them."""

    primary: LoadedFont
    bundled: LoadedFont
    mono: LoadedFont
    system_paths: tuple[str, ...] = SYSTEM_FALLBACK_PATHS
    subject: str = ""  # the file whose text is being laid out, for findings
    _system: list[LoadedFont] | None = None
    _choice: dict[tuple[str, int], str | None] = field(default_factory=dict)
    _missing: dict[int, str] = field(default_factory=dict)  # code point -> first subject
    # Characters already known to take the fast path of runs() in each base font, and widths
    # already measured: the same strings come back on every page and in every layout pass.
    _plain: dict[str, set[str]] = field(default_factory=dict)
    _widths: dict[tuple[str, str, float], float] = field(default_factory=dict)

    @property
    def main(self) -> str:
        return self.primary.name

    def _system_fonts(self) -> list[LoadedFont]:
        if self._system is None:
            self._system = []
            for candidate in self.system_paths:
                if not Path(candidate).is_file():
                    continue
                try:
                    self._system.append(_register(candidate, 0))
                except (TTFError, OSError, ValueError, KeyError, IndexError):
                    continue  # an unusable system font is simply not a fallback
        return self._system

    def font_for(self, cp: int, base: str) -> str | None:
        """The first font that can draw ``cp``, starting with ``base``; None if none can."""
        key = (base, cp)
        if key in self._choice:
            return self._choice[key]
        chain = [f for f in (self.primary, self.bundled, self.mono) if f.name == base]
        chain += [self.primary, self.bundled]
        found: str | None = None
        for font in chain:
            if font.covers(cp):
                found = font.name
                break
        else:
            for font in self._system_fonts():
                if font.covers(cp):
                    found = font.name
                    break
        self._choice[key] = found
        return found

    def runs(self, text: str, base: str | None = None) -> list[tuple[str, str]]:
        """Split ``text`` into ``(font name, text)`` runs; undrawable characters become markers.

        Newlines are kept as they are (callers decide what a line break means).
        """
        base = base or self.main
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self._plain_in(text, base):
            return [(base, text)] if text else []
        out: list[tuple[str, str]] = []
        for ch in text:
            if ch == "\n":
                font, piece = base, "\n"
            elif ch == "\t":
                font, piece = base, "    "
            elif _is_invisible(ch):
                continue
            elif _is_unprintable(ch):
                font, piece = base, marker(ord(ch))
            else:
                chosen = self.font_for(ord(ch), base)
                if chosen is None:
                    # Name the file the character came from, if any use of it has one.
                    if not self._missing.get(ord(ch)):
                        self._missing[ord(ch)] = self.subject
                    font, piece = base, marker(ord(ch))
                else:
                    font, piece = chosen, ch
            if out and out[-1][0] == font:
                out[-1] = (font, out[-1][1] + piece)
            else:
                out.append((font, piece))
        return out

    def _plain_in(self, text: str, base: str) -> bool:
        """Fast path: every character drawable in ``base`` and none needing special handling."""
        known = self._plain.get(base)
        if known is not None and known.issuperset(text):
            return True
        font = next((f for f in (self.primary, self.bundled, self.mono) if f.name == base), None)
        if font is None:
            return False
        chars = set(text)
        chars.discard("\n")
        if all(font.covers(ord(c)) for c in chars) and not any(_is_invisible(c) or _is_unprintable(c) for c in chars):
            self._plain.setdefault(base, {"\n"}).update(chars)
            return True
        return False

    def markup(self, text: str, base: str | None = None) -> str:
        """Paragraph markup for untrusted ``text``: escaped, font runs tagged, newlines kept."""
        base = base or self.main
        parts: list[str] = []
        for font, piece in self.runs(text, base):
            safe = escape(piece).replace("\n", "<br/>")
            parts.append(safe if font == base else f'<font face="{font}">{safe}</font>')
        return "".join(parts)

    def plain(self, text: str) -> str:
        """Text for places outside the page (outline titles, document info): no controls."""
        return "".join(marker(ord(c)) if _is_unprintable(c) else c for c in text if not _is_invisible(c))

    def string_width(self, text: str, size: float, base: str | None = None) -> float:
        return sum(self.run_width(piece, font, size) for font, piece in self.runs(text, base))

    def run_width(self, piece: str, font: str, size: float) -> float:
        """The width of one run from :meth:`runs`, in points."""
        key = (piece, font, size)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = pdfmetrics.stringWidth(piece, font, size)
        return width

    def findings(self) -> tuple[Finding, ...]:
        return tuple(
            Finding(
                Severity.WARNING,
                MISSING_GLYPH_CODE,
                f"所有可用字体都无法显示字符“{chr(cp)}”（U+{cp:04X}），PDF 中以 {marker(cp)} 代替；"
                "可用 --font 指定包含该字符的 TrueType 字体。",
                subject,
            )
            for cp, subject in sorted(self._missing.items())
        )


def load_fonts(font_path: Path | None = None, system_paths: tuple[str, ...] | None = None) -> FontSet:
    """The bundled WenQuanYi Micro Hei, with the user's ``--font`` (if any) in front of it."""
    bundled = _load_bundled(BUNDLED_FACE_INDEX)
    mono = _load_bundled(BUNDLED_MONO_INDEX)
    primary = _load_user_font(font_path) if font_path is not None else bundled
    global _last_file
    _last_file = None  # kept only for the faces of one call; each face holds what it uses
    return FontSet(
        primary=primary,
        bundled=bundled,
        mono=mono,
        system_paths=SYSTEM_FALLBACK_PATHS if system_paths is None else system_paths,
    )
