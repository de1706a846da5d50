"""The assemble step of a build (pipeline.assemble): an assessed case becomes the Dossier the
renderer draws — its id, its clock, the timeline, the legal bases and the manifest."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from evidencekit import __version__
from evidencekit.errors import UsageError
from evidencekit.integrity.manifest import build_manifest, fingerprint
from evidencekit.model import Case, Dossier, Exhibit, TimeSource
from evidencekit.rules.catalog import (
    dossier_title,
    legal_bases,
    load_rules,
    platform_display_name,
    statutory_amounts,
    urgency_for,
)
from evidencekit.timeline import build_timeline

if TYPE_CHECKING:
    from evidencekit.buildtypes import Assessment, BuildOptions


def case_id_for(case: Case) -> str:
    seed = f"{case.order.number}|{case.root.name}"
    return "EK-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:8].upper()


# SOURCE_DATE_EPOCH (reproducible-builds.org) as whole seconds from 1970 up to 2100-01-01 UTC.
MAX_SOURCE_DATE_EPOCH = 4102444800


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH, validated; None when unset or empty. reportlab reads it too (even
    without --reproducible), so a bad value is a usage error before any output, never ignored."""
    text = os.environ.get("SOURCE_DATE_EPOCH")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_SOURCE_DATE_EPOCH:
        shown = text if len(text) <= 24 else text[:24] + "…"
        raise UsageError(f"环境变量 SOURCE_DATE_EPOCH 的值不可用：{shown!r}",
                         hint=f"应为 0 到 {MAX_SOURCE_DATE_EPOCH}（2100-01-01）之间的整数秒数（Unix 时间），"
                              "例如 1731600000；不需要时请删除这个环境变量")
    return int(text)


def generation_time(exhibits: Sequence[Exhibit], case: Case, options: BuildOptions) -> datetime:
    """The clock for the dossier. Under --reproducible it must come from the inputs:
    SOURCE_DATE_EPOCH when set, else the latest dated fact in the case (so the cover still shows
    a meaningful date), else the Unix epoch."""
    epoch = source_date_epoch()
    if not options.reproducible:
        return options.now.astimezone(case.tz).replace(microsecond=0)
    if epoch is not None:
        return datetime.fromtimestamp(epoch, case.tz)
    times = [ex.stamp.time for ex in exhibits if ex.stamp.time and ex.stamp.source is not TimeSource.MTIME]
    times += [e.time for e in case.events if e.time]
    if times:
        return max(times).astimezone(case.tz).replace(microsecond=0)
    return datetime.fromtimestamp(0, case.tz)


def assemble_dossier(a: Assessment, options: BuildOptions) -> Dossier:
    rules = load_rules()
    case = a.case
    case_id = case_id_for(case)
    generated_at = generation_time(a.exhibits, case, options)
    profile = rules.targets[options.target]
    platform = rules.platforms.get(case.platform) if case.platform else None
    reply_hours = platform.seller_reply_hours if platform else 48
    timeline = build_timeline(case, a.exhibits, timedelta(hours=reply_hours), rules.followup.channel_labels)
    manifest = build_manifest(
        case_id=case_id,
        target=options.target,
        exhibits=a.exhibits,
        refused=a.inventory.refused,
        generated_at=generated_at,
        tool_version=__version__,
        personal_data_masked=options.mask_personal,
    )
    total = sum(ex.source.size for ex in a.exhibits)
    problem = rules.problem_types.get(case.problem.type)
    return Dossier(
        case=case,
        case_id=case_id,
        target=options.target,
        title=dossier_title(case, options.target, rules),
        exhibits=a.exhibits,
        refused=a.inventory.refused,
        timeline=timeline,
        checklist=a.checklist,
        findings=a.findings,
        legal=legal_bases(case, rules),
        amounts=statutory_amounts(case, rules),
        generated_at=generated_at,
        tool_version=__version__,
        fingerprint=fingerprint(manifest),
        manifest=manifest,
        urgency=urgency_for(case, rules),
        section_order=tuple(profile.sections),
        originals_attached=options.attach_originals and total <= options.attach_limit,
        font_path=options.font,
        target_label=profile.label,
        kind_labels={k: v.label for k, v in rules.kinds.items()},
        kind_sources={k: v.source for k, v in rules.kinds.items()},
        problem_label=problem.label if problem else "",
        platform_label=platform_display_name(case, rules) if case.platform or case.platform_name else "",
        claim_labels=tuple(rules.claim_labels.get(c, c) for c in case.claims),
    )
