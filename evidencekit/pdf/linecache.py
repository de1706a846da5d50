"""Line breaks kept between builds, so that a rebuild does not break the same text again.

Breaking CJK text measures every character, and after only case.yaml changed nearly every
paragraph of the dossier is the same text in the same style at the same width as last time.
The broken lines depend only on the paragraph's fragments (text and look), the widths they are
broken to, the style's ``autoLeading`` and the font files' metrics, so those are the key: the
fonts enter as the SHA-256 of their files, with the reportlab version.

The file is plain JSON in the display-copy cache folder (pruned with it), one per evidence set.
Its content is untrusted: an entry is used only if it has exactly the shape this module writes,
and any problem with the file means breaking the lines again, never a different document. An
entry is only ever stored when it can be rebuilt exactly: every line's fields are plain numbers
and every word is a copy of one of the paragraph's own fragments with other text.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import reportlab
from reportlab.lib.colors import Color
from reportlab.platypus.paragraph import FragLine, ParaLines
from reportlab.platypus.paraparser import ParaFrag

from evidencekit.cache import default_cache_dir, write_entry
from evidencekit.errors import EvidenceKitError
from evidencekit.fsutil import read_regular
from evidencekit.pdf import fonts

VERSION = 1
MAX_FILE_BYTES = 16 * 1024**2
# The fields of a broken line (reportlab's FragLine in cjkFragSplit), in the order stored.
LINE_FIELDS = ("extraSpace", "wordCount", "fontSize", "ascent", "descent", "maxWidth", "currentWidth",
               "lineBreak")
PLAIN_EXTRA = frozenset({"kind", "lines", "ascent", "descent"})

_font_digests: dict[str, str] = {}


def _font_digest(name: str) -> str | None:
    digest = _font_digests.get(name)
    if digest is None:
        digest = fonts.file_digest(name)  # hashed once, when fonts.py read the file
        if digest is None:
            return None  # not a TrueType font of ours: not cached
        _font_digests[name] = digest
    return digest


_color_texts: dict[int, tuple[Color, str]] = {}


def _text_of(value: Any) -> Any:
    """``value``, or for a colour its repr: the dossier's few colours are shared objects, so
    their text is made once (the colour is kept with it, so that its id is never reused)."""
    if not isinstance(value, Color):
        return value
    known = _color_texts.get(id(value))
    if known is None or known[0] is not value:
        known = _color_texts[id(value)] = (value, repr(value))
    return known[1]


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def _look(frag: ParaFrag) -> dict[str, Any]:
    return {k: v for k, v in frag.__dict__.items() if k != "text"}


class LineCache:
    def __init__(self, path: Path | None, entries: dict[str, Any]) -> None:
        self.path = path
        self._old = entries
        self._new: dict[str, Any] = {}
        self.hits = 0

    # -- keys ----------------------------------------------------------------------------------

    def key(self, frags: Sequence[ParaFrag], widths: Sequence[float], auto_leading: Any) -> str | None:
        fonts = {}
        for frag in frags:
            name = getattr(frag, "fontName", None)
            digest = _font_digest(name) if isinstance(name, str) else None
            if digest is None:
                return None
            fonts[name] = digest
        blob = repr((reportlab.Version, sorted(fonts.items()), list(widths), auto_leading,
                     [sorted((k, _text_of(v)) for k, v in f.__dict__.items()) for f in frags]))
        if " at 0x" in blob:  # an object without a stable text form: cannot be a key
            return None
        return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()

    # -- lookup and store ----------------------------------------------------------------------

    def get(self, key: str, frags: Sequence[ParaFrag]) -> Any | None:
        entry = self._new.get(key) or self._old.get(key)
        if entry is None:
            return None
        try:
            result = _rebuild(entry, frags)
        except (TypeError, ValueError, IndexError, KeyError):
            result = None
        if result is None:
            self._old.pop(key, None)
            return None
        self._new[key] = entry
        self.hits += 1
        return result

    def put(self, key: str, frags: Sequence[ParaFrag], result: Any) -> None:
        entry = _entry(result, frags)
        if entry is not None:
            self._new[key] = entry

    # -- the file ------------------------------------------------------------------------------

    def save(self) -> None:
        """Keep what this build used (nothing else: the file stays the size of one dossier)."""
        if self.path is None or self._new == self._old:
            return
        data = json.dumps({"version": VERSION, "entries": self._new}, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8", "surrogatepass")
        if len(data) > MAX_FILE_BYTES:
            return
        with contextlib.suppress(OSError):
            write_entry(self.path, data)


def _entry(result: Any, frags: Sequence[ParaFrag]) -> list[Any] | None:
    """``result`` of breakLinesCJK as stored, or None when it could not be rebuilt exactly."""
    d = result.__dict__
    if d.get("kind") == 0 and len(frags) == 1 and isinstance(result, ParaFrag):
        if set(d) - PLAIN_EXTRA != set(frags[0].__dict__) or \
                any(d[k] != v for k, v in frags[0].__dict__.items() if k not in PLAIN_EXTRA):
            return None
        lines = []
        for line in d["lines"]:
            if not (isinstance(line, tuple) and len(line) == 2 and _number(line[0])
                    and isinstance(line[1], list) and len(line[1]) == 1 and type(line[1][0]) is str):
                return None
            lines.append([line[0], line[1][0]])
        if not (_number(d["ascent"]) and _number(d["descent"])):
            return None
        return [0, d["ascent"], d["descent"], lines]
    if d.get("kind") == 1 and set(d) == {"kind", "lines"} and type(result).__name__ == "ParaLines":
        looks = [_look(f) for f in frags]
        lines = []
        for line in d["lines"]:
            if type(line) is not FragLine or set(line.__dict__) != {"kind", "words", *LINE_FIELDS} \
                    or line.kind != 1:
                return None
            fields = [getattr(line, k) for k in LINE_FIELDS]
            if not all(_number(v) for v in fields[:-1]) or type(fields[-1]) is not bool:
                return None
            words = []
            for word in line.words:
                if type(word) is not ParaFrag or type(word.__dict__.get("text")) is not str:
                    return None
                look = _look(word)
                index = next((i for i, other in enumerate(looks) if other == look), None)
                if index is None:
                    return None
                words.append([index, word.text])
            lines.append([*fields, words])
        return [1, lines]
    return None


def _bare(texts: Iterator[str] | Sequence[str]) -> str:
    return "".join("".join(texts).split())


def _rebuild(entry: Any, frags: Sequence[ParaFrag]) -> Any | None:
    """The breakLinesCJK result an entry stands for, or None when the entry is not well formed
    or its lines do not hold exactly the paragraph's own characters (spaces aside), in order."""
    result = _rebuild_shape(entry, frags)
    if result is None:
        return None
    if result.kind == 0:
        shown = _bare(line[1][0] for line in result.lines)
    else:
        shown = _bare(w.text for line in result.lines for w in line.words)
    return result if shown == _bare(f.text for f in frags) else None


def _rebuild_shape(entry: Any, frags: Sequence[ParaFrag]) -> Any | None:
    if not isinstance(entry, list) or not entry:
        return None
    if entry[0] == 0 and len(entry) == 4 and len(frags) == 1:
        _, ascent, descent, lines = entry
        if not (_number(ascent) and _number(descent) and isinstance(lines, list)):
            return None
        wrapped = []
        for line in lines:
            if not (isinstance(line, list) and len(line) == 2 and _number(line[0]) and type(line[1]) is str):
                return None
            wrapped.append((line[0], [line[1]]))
        return frags[0].clone(kind=0, lines=wrapped, ascent=ascent, descent=descent)
    if entry[0] == 1 and len(entry) == 2 and isinstance(entry[1], list):
        out = []
        for line in entry[1]:
            if not (isinstance(line, list) and len(line) == len(LINE_FIELDS) + 1):
                return None
            *fields, words = line
            if not all(_number(v) for v in fields[:-1]) or type(fields[-1]) is not bool \
                    or not isinstance(words, list):
                return None
            made = []
            for word in words:
                if not (isinstance(word, list) and len(word) == 2 and type(word[0]) is int
                        and 0 <= word[0] < len(frags) and type(word[1]) is str):
                    return None
                made.append(frags[word[0]].clone(text=word[1]))
            out.append(FragLine(kind=1, words=made, **dict(zip(LINE_FIELDS, fields, strict=True))))
        return ParaLines(kind=1, lines=out)
    return None


# ---------------------------------------------------------------------------------------------
# The cache of the render in progress
# ---------------------------------------------------------------------------------------------

_active: list[LineCache] = []


def active() -> LineCache | None:
    return _active[-1] if _active else None


def cache_file(evidence: Sequence[str], cache_root: Path | None = None) -> Path:
    """The cache file of one evidence set (the originals' SHA-256), in the display-copy cache
    folder ``cache_root`` (the build's; the user's default when None)."""
    digest = hashlib.sha256("\n".join(sorted(evidence)).encode()).hexdigest()
    return (cache_root or default_cache_dir()) / "lines" / f"{digest[:32]}-v{VERSION}.json"


def load(path: Path) -> LineCache:
    entries: dict[str, Any] = {}
    try:
        data = json.loads(read_regular(path, what="排版缓存", max_bytes=MAX_FILE_BYTES))
        if isinstance(data, dict) and data.get("version") == VERSION and isinstance(data.get("entries"), dict):
            entries = {k: v for k, v in data["entries"].items() if isinstance(k, str) and len(k) == 64}
    except (OSError, EvidenceKitError, ValueError, UnicodeDecodeError):
        pass  # missing or unusable: every line is broken afresh
    return LineCache(path, entries)


@contextlib.contextmanager
def using(cache: LineCache) -> Iterator[LineCache]:
    """Make ``cache`` the one paragraphs consult while the block runs; save it after."""
    _active.append(cache)
    try:
        yield cache
    finally:
        _active.pop()
    cache.save()
