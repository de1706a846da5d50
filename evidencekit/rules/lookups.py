"""Small look-ups in the Rules for one case: its problem type and platform, the target profile,
titles, the evidence kind of a folder, urgency and advice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evidencekit.errors import UnknownTargetError
from evidencekit.model import Case, EvidenceKind, Target
from evidencekit.rules.conditions import Advice, matches
from evidencekit.rules.platforms import Platform
from evidencekit.rules.problem_types import ProblemType
from evidencekit.rules.targets import TargetProfile
from evidencekit.rules.templatefile import fold_word, suggest

if TYPE_CHECKING:
    from evidencekit.rules.ruleset import Rules, Vocabulary


def resolve_word(vocabulary: Vocabulary, word: str, rules: Rules) -> str | None:
    """The key a typed word names in ``vocabulary`` (抖音 -> douyin, 假货 -> counterfeit,
    12315 -> 12315): a key, a Chinese label or an alias from templates/, compared after NFC,
    trimming and casefold(). None for a word that names nothing."""
    wanted = fold_word(word)
    for key, words in rules.words(vocabulary).items():
        if any(wanted == fold_word(w) for w in (key, *words)):
            return key
    return None


def choices_text(vocabulary: Vocabulary, rules: Rules) -> str:
    """douyin 抖音 / taobao 淘宝 / …: every key with its Chinese label, for an error message."""
    return " / ".join(f"{key} {words[0]}" for key, words in rules.words(vocabulary).items())


def problem_type(case: Case, rules: Rules) -> ProblemType:
    """The case's problem type, or the generic checklist when it is empty or unknown."""
    return rules.problem_types.get(case.problem.type, rules.generic)


def platform_rules(case: Case, rules: Rules) -> Platform:
    return rules.platforms.get(case.platform, rules.platforms["other"])


def platform_display_name(case: Case, rules: Rules) -> str:
    """抖音 / 淘宝 / 快手, the user's platform_name for other platforms, else the generic 电商."""
    if case.platform in rules.platforms and case.platform != "other":
        return rules.platforms[case.platform].label
    return case.platform_name.strip() or rules.platforms["other"].label


def target_profile(target: Target | str | None, rules: Rules) -> TargetProfile:
    """The channel profile; ``None`` or ``""`` means the default (general). A word that is no
    Target raises UnknownTargetError."""
    key = target or rules.default_target
    try:
        return rules.targets[key]
    except KeyError:
        raise UnknownTargetError(
            f"未知的提交渠道：{key}{suggest(key, rules.targets)}",
            hint=f"--target 可用：{'、'.join(rules.targets)}",
        ) from None


def dossier_title(case: Case, target: str | None, rules: Rules) -> str:
    profile = target_profile(target, rules)
    return profile.title.format(
        platform=platform_display_name(case, rules),
        product=case.order.product,
        merchant=case.merchant.company or case.merchant.shop_name,
        complainant=case.complainant.name,
        order_number=case.order.number,
        target=profile.label,
    )


def kind_for_folder(name: str, rules: Rules) -> EvidenceKind | None:
    """The evidence kind a folder under evidence/ stands for (English or Chinese alias).
    Matched after NFC normalisation and casefold(), so "Order" and a macOS NFD name work too."""
    wanted = fold_word(name)
    for rule in rules.kinds.values():
        if any(wanted == folder.casefold() for folder in rule.folders):
            return rule.kind
    return None


def exhibit_title(kind: EvidenceKind, rules: Rules, *, n: int, file_name: str, product: str = "") -> str:
    """The default 证据名称 for an exhibit the user did not title."""
    rule = rules.kinds[kind]
    return rule.title.format(label=rule.label, n=n, file=file_name, stem=Path(file_name).stem,
                             product=product)


def urgency_for(case: Case, rules: Rules) -> str:
    """Chinese urgency label, e.g. 紧急（24 小时内处理）."""
    return rules.urgency[problem_type(case, rules).urgency].label


def advice_for(case: Case, rules: Rules) -> tuple[str, ...]:
    """What to do next: urgency, common, platform and problem-type advice whose conditions hold."""
    ptype = problem_type(case, rules)
    platform = platform_rules(case, rules)
    candidates = [Advice(rules.urgency[ptype.urgency].advice)] if rules.urgency[ptype.urgency].advice else []
    candidates += [*rules.common_advice, *platform.advice, *ptype.advice.get("all", ()),
                   *ptype.advice.get(platform.key, ())]
    return tuple(dict.fromkeys(a.text for a in candidates if matches(case, a.when)))
