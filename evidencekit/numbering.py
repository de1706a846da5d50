"""Exhibit numbers (证据N) that stay put once a dossier has gone out.

The first build numbers every file in the order an official reads: by kind (the order of
templates/evidence_kinds.yaml: order, product, livestream, chat, ...), then by capture time,
then by path. Those numbers are recorded in case.yaml (``evidence[].number``, by the pipeline's
``record`` step and by ``add``), and every later build keeps them: a file added since gets the
next number after every recorded one, and the number of a file that was removed is not given
out again (case.load keeps it in ``Case.retired_numbers``). ``build --renumber`` numbers
everything in reading order again and gives up the removed files' entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from evidencekit.case.edit import record_numbers
from evidencekit.errors import CaseFileError, CaseFolderError
from evidencekit.model import Case, Exhibit
from evidencekit.rules.catalog import Rules, exhibit_title


@dataclass(frozen=True)
class Numbering:
    exhibits: tuple[Exhibit, ...]  # in number order, each titled
    to_record: dict[str, int]  # rel_path -> number, where case.yaml does not say so yet
    retired: tuple[tuple[int, str], ...]  # (number, file) of removed files, kept unused
    drop: tuple[str, ...]  # removed files whose entries --renumber gives up

    def notes(self) -> tuple[str, ...]:
        """What the shopper should know about the numbers (Chinese, for the terminal)."""
        out = [f"证据{n}（{file}）已不在 evidence/ 中，编号 {n} 保留不用；"
               "要重新连续编号请运行 evidencekit build --renumber" for n, file in self.retired]
        if self.drop:
            out.append("已重新编号；已删除文件的编号记录已从 case.yaml 移除：" + "、".join(self.drop))
        return tuple(out)


def reading_order(exhibits: Sequence[Exhibit], rules: Rules) -> list[Exhibit]:
    kind_order = {k: i for i, k in enumerate(rules.kinds)}
    far_future = datetime.max.replace(tzinfo=UTC)
    return sorted(exhibits, key=lambda e: (kind_order.get(e.kind.value, 99), e.stamp.time or far_future,
                                           e.source.rel_path))


def number_exhibits(exhibits: Sequence[Exhibit], case: Case, rules: Rules, *, renumber: bool = False) -> Numbering:
    """Numbers for ``exhibits`` (all numbered 0 by the inspect step); a title the case does not
    declare comes with the number."""
    ordered = reading_order(exhibits, rules)
    recorded = {} if renumber else {o.file: o.number for o in case.evidence if o.number is not None}
    retired = () if renumber else case.retired_numbers
    following = max([*recorded.values(), *(n for n, _ in retired)], default=0) + 1
    numbers: dict[str, int] = {}
    for ex in ordered:
        rel = ex.source.rel_path
        if rel in recorded:
            numbers[rel] = recorded[rel]
        else:
            numbers[rel], following = following, following + 1
    declared = {o.file: o.number for o in case.evidence}
    product = case.order.product
    numbered = sorted(
        (replace(e, number=numbers[e.source.rel_path],
                 title=e.title or exhibit_title(e.kind, rules, n=numbers[e.source.rel_path],
                                                file_name=e.source.name, product=product))
         for e in ordered), key=lambda e: e.number)
    return Numbering(
        exhibits=tuple(numbered),
        to_record={rel: n for rel, n in numbers.items() if declared.get(rel) != n},
        retired=tuple(retired),
        drop=tuple(file for _, file in case.retired_numbers) if renumber else (),
    )


def record_in_case(n: Numbering, case: Case) -> list[str]:
    """Write the numbers a dossier went out with into case.yaml; what to tell the shopper."""
    if not n.to_record and not n.drop:
        return []
    if not case.has_case_file:  # a case.yaml of numbers only would hide `init`'s commented template
        return ["案件文件夹里没有 case.yaml，证据编号没有记下；运行 evidencekit init 后再生成，"
                "以后添加证据时已有编号不变"]
    try:
        record_numbers(case.root, n.to_record, drop=n.drop)
    except (CaseFileError, CaseFolderError) as exc:  # a read-only folder still gets its dossier
        return [f"未能把证据编号写入 case.yaml（{exc.render()}）；下次生成时新旧证据的编号可能改变"]
    recorded = sorted(n.to_record.items(), key=lambda item: item[1])
    listed = "、".join(f"证据{number} {rel}" for rel, number in recorded) if len(recorded) <= 5 else f"{len(recorded)} 项"
    return [f"证据编号已记在 case.yaml：{listed}（以后添加的证据排在后面，已有编号不变）"]
