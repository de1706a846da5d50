"""What the law gives a case: the legal bases to cite, the statutory extra compensation with its
arithmetic, the complaint limitation period and the no-reason-return deadline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from evidencekit.model import Case, LegalBasis, StatutoryAmount
from evidencekit.rules.legal import DATED_LAW_KINDS, PunitiveRule
from evidencekit.rules.lookups import platform_rules, problem_type

if TYPE_CHECKING:
    from evidencekit.rules.ruleset import Rules


_CENT = Decimal("0.01")


def legal_basis(key: str, rules: Rules) -> LegalBasis:
    article = rules.articles[key]
    return LegalBasis(rules.laws[article.law].name, article.article, article.summary)


def legal_bases(case: Case, rules: Rules) -> tuple[LegalBasis, ...]:
    """Articles for the problem type (plus the platform's own rules and the punitive basis if claimed).

    Statutes and regulations that took effect after the purchase are left out: they did not govern
    the sale, and citing them would weaken the complaint.
    """
    ptype = problem_type(case, rules)
    keys = [*ptype.legal, *platform_rules(case, rules).legal_by_type.get(ptype.key, ())]
    if "punitive" in case.claims:
        keys.append(punitive_rule_for(case, rules).article)
    bought = case.order.time.astimezone(case.tz).date() if case.order.time else None
    out = []
    for key in dict.fromkeys(keys):
        law = rules.laws[rules.articles[key].law]
        if bought and law.effective and law.kind in DATED_LAW_KINDS and bought < law.effective:
            continue
        out.append(legal_basis(key, rules))
    return tuple(out)


def punitive_rule_for(case: Case, rules: Rules) -> PunitiveRule:
    """Food goes by 食品安全法 whatever the problem type; otherwise the type's basis or the default."""
    words = {w.casefold() for w in re.split(r"[/,，、;；|\s]+", case.order.category) if w}
    for rule in rules.punitive.values():
        if words & rule.categories:
            return rule
    return rules.punitive[problem_type(case, rules).punitive or rules.default_punitive]


def _yuan(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def statutory_amounts(case: Case, rules: Rules) -> tuple[StatutoryAmount, ...]:
    """The statutory extra compensation, only when claimed and the price paid is known."""
    if "punitive" not in case.claims or case.order.amount is None:
        return ()
    rule = punitive_rule_for(case, rules)
    price = case.order.amount.quantize(_CENT, ROUND_HALF_UP)
    product = (rule.multiplier * price).quantize(_CENT, ROUND_HALF_UP)
    minimum = rule.minimum.quantize(_CENT, ROUND_HALF_UP)
    times = format(rule.multiplier.normalize(), "f")
    arithmetic = f"{times} × {_yuan(price)} = {_yuan(product)}"
    amount = product
    if product < minimum:
        arithmetic += f"，不足 {_yuan(minimum)}，按 {_yuan(minimum)} 计"
        amount = minimum
    article = rules.articles[rule.article]
    return (StatutoryAmount(rules.laws[article.law].name, article.article, amount, arithmetic),)


def no_reason_return_deadline(signed_at: datetime, rules: Rules, tz: tzinfo | None = None) -> date:
    """Last day to send a no-reason return notice: followup.yaml's days (7), counted from the day
    after signing."""
    local = signed_at.astimezone(tz) if tz is not None and signed_at.tzinfo is not None else signed_at
    return local.date() + timedelta(days=rules.followup.no_reason_return_days)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class LimitationPeriod:
    """The complaint limitation period: from the day the buyer knew of the problem, ``years`` long."""

    years: int
    start_day: date  # in the case's zone; the start day itself is not counted
    start_key: str  # the case.yaml key the start came from: problem.discovered_at or order.time
    last_day: date  # the last day on which a complaint is still accepted


def limitation_period(case: Case, years: int) -> LimitationPeriod | None:
    """When the limitation period of ``years`` starts and ends; None when case.yaml gives no start."""
    if case.problem.discovered_at is not None:
        start, key = case.problem.discovered_at, "problem.discovered_at"
    elif case.order.time is not None:
        start, key = case.order.time, "order.time"
    else:
        return None
    start_day = start.astimezone(case.tz).date() if start.tzinfo else start.date()
    return LimitationPeriod(years, start_day, key, _add_years(start_day, years))
