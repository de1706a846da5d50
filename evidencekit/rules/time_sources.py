"""What each time source means, in the words shown next to a time (templates/time_sources.yaml).

The exhibit header and the 证据目录 show ``phrase_for(stamp)`` (拍摄时间（照片内记录）,
保存时间（非拍摄时间）…); the integrity appendix lists every source with its strength.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evidencekit.model import Stamp, TimeSource
from evidencekit.rules.filename_times import SAVE_TIME_MARK, is_save_time
from evidencekit.rules.templatefile import TemplateFile

STRENGTHS = ("strong", "medium", "weak")
_OPEN, _CLOSE = "（(【[", "）)】]"


@dataclass(frozen=True)
class TimeSourceText:
    key: str
    label: str
    phrase: str
    strength: str  # strong | medium | weak
    meaning: str


@dataclass(frozen=True)
class TimeSources:
    sources: Mapping[str, TimeSourceText]  # keyed by TimeSource value
    filename_phrases: tuple[tuple[tuple[str, ...], str], ...]  # (words in the detail, phrase)
    save_phrase: str
    strength_labels: Mapping[str, str]  # strong -> 强

    def entry(self, source: TimeSource) -> TimeSourceText:
        """The text for ``source``; a source the template does not know yet gets its label."""
        found = self.sources.get(source.value)
        if found is not None:
            return found
        strength = "weak" if source.weak else "medium"
        return TimeSourceText(source.value, source.label, source.label, strength, source.label)

    def phrase_for(self, stamp: Stamp) -> str:
        """One short phrase: what this time is and why (拍摄时间（照片内记录）)."""
        if stamp.time is None:
            return self.entry(TimeSource.NONE).phrase
        if is_save_time(stamp):
            return self.save_phrase
        if stamp.source is TimeSource.FILENAME:
            for words, phrase in self.filename_phrases:
                if any(w in stamp.detail for w in words):
                    return phrase
        return self.entry(stamp.source).phrase

    def shown_detail(self, stamp: Stamp) -> str:
        """The detail to show beside ``phrase_for``: without the （非拍摄时间） the phrase already says.

        A modification time has no basis to show: its phrase says what it is and that it is weak
        (文件修改时间（较弱）), and the detail would only say so again, as a judgement.
        """
        if stamp.source is TimeSource.MTIME:
            return ""
        return stamp.detail.removesuffix(SAVE_TIME_MARK) if is_save_time(stamp) else stamp.detail

    def strength_label(self, source: TimeSource) -> str:
        return self.strength_labels.get(self.entry(source).strength, "")


def _check_phrase(doc: Any, path: str, phrase: str) -> None:
    depth = 0
    for ch in phrase:
        if ch in _OPEN:
            depth += 1
            if depth > 1:
                doc.fail(path, f"括号里不要再套括号：{phrase}")
        elif ch in _CLOSE:
            depth -= 1
    if depth != 0:
        doc.fail(path, f"括号不成对：{phrase}")
    if any(ch in "()[]" for ch in phrase):
        doc.fail(path, f"请用全角括号（）：{phrase}")


def parse_time_sources(doc: TemplateFile) -> TimeSources:
    """Read and validate time_sources.yaml."""
    top = doc.mapping(doc.data, "", required=("schema", "strengths", "sources", "save_phrase"),
                      optional=("filename",))
    strengths = doc.mapping(top["strengths"], "strengths", required=STRENGTHS)
    labels = {k: doc.text(strengths, k, "strengths") for k in STRENGTHS}
    sources: dict[str, TimeSourceText] = {}
    known = {s.value for s in TimeSource}
    for key, node in doc.mapping(top["sources"], "sources", optional=None).items():
        path = f"sources.{key}"
        if key not in known:
            doc.fail(path, f"未知的时间来源（可用的：{'、'.join(sorted(known))}）")
        m = doc.mapping(node, path, required=("label", "phrase", "strength", "meaning"))
        strength = doc.text(m, "strength", path)
        if strength not in STRENGTHS:
            doc.fail(f"{path}.strength", f"应为 strong、medium 或 weak，实际是 {strength!r}")
        phrase = doc.text(m, "phrase", path)
        _check_phrase(doc, f"{path}.phrase", phrase)
        sources[key] = TimeSourceText(key, doc.text(m, "label", path), phrase, strength, doc.text(m, "meaning", path))
    filename: list[tuple[tuple[str, ...], str]] = []
    for path, node in doc.items(top, "filename", ""):
        m = doc.mapping(node, path, required=("contains", "phrase"))
        phrase = doc.text(m, "phrase", path)
        _check_phrase(doc, f"{path}.phrase", phrase)
        filename.append((doc.str_list(m, "contains", path), phrase))
    save = doc.text(top, "save_phrase", "")
    _check_phrase(doc, "save_phrase", save)
    return TimeSources(sources, tuple(filename), save, labels)
