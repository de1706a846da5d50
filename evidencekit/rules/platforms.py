"""templates/platforms.yaml: each shopping platform's name, customer-service channels, reply times,
intervention route, own rules and advice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from evidencekit.rules.conditions import Advice, parse_advice
from evidencekit.rules.templatefile import TemplateFile, top_level


@dataclass(frozen=True)
class Channel:
    name: str
    path: str
    response: str


@dataclass(frozen=True)
class PlatformTiming:
    seller_reply_hours: int  # timeline flags a seller reply as overdue after this
    platform_reply_hours: int | None
    typical_seller: str
    typical_platform: str
    typical_refund: str
    confirmed: bool
    source: str


@dataclass(frozen=True)
class Platform:
    key: str
    label: str  # short name used in titles and text: 抖音 / 淘宝 / 快手 / 电商
    full_name: str
    apps: tuple[str, ...]
    channels: tuple[Channel, ...]
    timing: PlatformTiming
    intervention: str
    intervention_confirmed: bool
    intervention_source: str
    advice: tuple[Advice, ...]
    legal_by_type: Mapping[str, tuple[str, ...]]
    aliases: tuple[str, ...] = ()  # other words case.yaml may use besides key and label (天猫)

    @property
    def seller_reply_hours(self) -> int:
        """After this many hours without a seller reply the timeline flags it as overdue."""
        return self.timing.seller_reply_hours


def parse_platforms(doc: TemplateFile) -> tuple[dict[str, Platform], tuple[Advice, ...]]:
    top = top_level(doc, ("platforms",), ("common_advice",))
    common = parse_advice(doc, top.get("common_advice"), "common_advice")
    out: dict[str, Platform] = {}
    for key, node in doc.mapping(top["platforms"], "platforms", optional=None).items():
        path = f"platforms.{key}"
        m = doc.mapping(node, path, ("label", "full_name", "channels", "timing", "intervention"),
                        ("apps", "advice", "legal_by_type", "aliases"))
        channels = []
        for item_path, item in doc.items(m, "channels", path):
            c = doc.mapping(item, item_path, ("name", "path"), ("response",))
            channels.append(Channel(doc.text(c, "name", item_path), doc.text(c, "path", item_path),
                                    doc.text(c, "response", item_path, "")))
        tpath = f"{path}.timing"
        t = doc.mapping(m["timing"], tpath, ("seller_reply_hours", "confirmed", "source"),
                        ("platform_reply_hours", "typical_seller", "typical_platform", "typical_refund"))
        seller_hours = doc.count(t, "seller_reply_hours", tpath)
        if seller_hours is None:
            doc.fail(f"{tpath}.seller_reply_hours", "应为正整数（小时）")
        timing = PlatformTiming(
            seller_hours, doc.count(t, "platform_reply_hours", tpath),
            doc.text(t, "typical_seller", tpath, ""), doc.text(t, "typical_platform", tpath, ""),
            doc.text(t, "typical_refund", tpath, ""), doc.flag(t, "confirmed", tpath, False),
            doc.text(t, "source", tpath),
        )
        ipath = f"{path}.intervention"
        i = doc.mapping(m["intervention"], ipath, ("route", "confirmed", "source"))
        legal_by_type = {
            ptype: doc.strings(refs, f"{path}.legal_by_type.{ptype}")
            for ptype, refs in doc.mapping(m.get("legal_by_type") or {}, f"{path}.legal_by_type",
                                           optional=None).items()
        }
        out[key] = Platform(
            key=key, label=doc.text(m, "label", path), full_name=doc.text(m, "full_name", path),
            apps=doc.str_list(m, "apps", path), channels=tuple(channels), timing=timing,
            intervention=doc.text(i, "route", ipath),
            intervention_confirmed=doc.flag(i, "confirmed", ipath, False),
            intervention_source=doc.text(i, "source", ipath),
            advice=parse_advice(doc, m.get("advice"), f"{path}.advice"),
            legal_by_type=legal_by_type,
            aliases=doc.str_list(m, "aliases", path),
        )
    if "other" not in out:
        doc.fail("platforms", "缺少 other（未列出的平台都按它处理）")
    return out, common
