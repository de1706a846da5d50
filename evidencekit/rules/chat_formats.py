"""templates/chat_formats.yaml: the Chinese name of every ChatFormat, shown on the exhibit page.
"""

from __future__ import annotations

from evidencekit.model import ChatFormat
from evidencekit.rules.templatefile import TemplateFile, top_level


def parse_chat_formats(doc: TemplateFile) -> dict[str, str]:
    top = top_level(doc, ("formats",))
    keys = [f.value for f in ChatFormat]
    entries = doc.mapping(top["formats"], "formats", required=keys, optional=())
    out = {}
    for key, node in entries.items():
        path = f"formats.{key}"
        out[key] = doc.text(doc.mapping(node, path, ("label",)), "label", path)
    return out
