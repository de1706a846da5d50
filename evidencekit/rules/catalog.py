"""The one import surface of the domain rules: everything read from templates/ and applied to a case.

Everything a consumer-association volunteer might want to correct (problem types, evidence kinds,
per-channel limits, wording, legal bases) lives in YAML under templates/; the modules of this package
only read, validate and apply it, one module per template file or task (docs/architecture.md lists
them). The YAML is validated once at load, cross-file references included, so a typo made while
editing fails loudly with the file and key path instead of producing a silently wrong checklist.

The rest of the code imports the rules from here; timeinfo.py alone also imports the file-name
time helpers of rules.filename_times directly.
"""

from __future__ import annotations

from evidencekit.rules.amounts import (
    LimitationPeriod,
    legal_bases,
    legal_basis,
    limitation_period,
    no_reason_return_deadline,
    punitive_rule_for,
    statutory_amounts,
)
from evidencekit.rules.checklist import (
    build_checklist,
    checklist_complete,
)
from evidencekit.rules.conditions import (
    CASE_PATHS,
    Advice,
    Condition,
    case_value,
    matches,
)
from evidencekit.rules.creditcode import validate_credit_code
from evidencekit.rules.followup import (
    EVENT_CHANNEL_KEYS,
    LADDER_STEPS,
    EventChannelRule,
    FollowupRules,
    LadderStep,
)
from evidencekit.rules.legal import (
    LAW_KINDS,
    Article,
    Law,
    PunitiveRule,
)
from evidencekit.rules.lookups import (
    advice_for,
    choices_text,
    dossier_title,
    exhibit_title,
    kind_for_folder,
    platform_display_name,
    platform_rules,
    problem_type,
    resolve_word,
    target_profile,
    urgency_for,
)
from evidencekit.rules.platforms import (
    Channel,
    Platform,
    PlatformTiming,
)
from evidencekit.rules.problem_types import (
    EVIDENCE_TYPES,
    EXHIBIT_TITLE_PLACEHOLDERS,
    Claim,
    EvidenceKindRule,
    ProblemType,
    Requirement,
    Urgency,
)
from evidencekit.rules.ruleset import (
    TEMPLATES_ENV,
    VOCABULARIES,
    Rules,
    Vocabulary,
    load_rules,
    load_rules_from,
    templates_folder,
)
from evidencekit.rules.targets import (
    COMPUTED_SOURCES,
    DEADLINE_STARTS,
    LETTER_FORMS,
    SECTIONS,
    TARGET_KEYS,
    TITLE_PLACEHOLDERS,
    AttachmentRules,
    Deadline,
    FieldRule,
    LetterField,
    PackWording,
    RecipientWording,
    TargetProfile,
    megabytes_text,
)

__all__ = [
    "CASE_PATHS",
    "COMPUTED_SOURCES",
    "DEADLINE_STARTS",
    "EVENT_CHANNEL_KEYS",
    "EVIDENCE_TYPES",
    "EXHIBIT_TITLE_PLACEHOLDERS",
    "LADDER_STEPS",
    "LAW_KINDS",
    "LETTER_FORMS",
    "SECTIONS",
    "TARGET_KEYS",
    "TEMPLATES_ENV",
    "TITLE_PLACEHOLDERS",
    "VOCABULARIES",
    "Advice",
    "Article",
    "AttachmentRules",
    "Channel",
    "Claim",
    "Condition",
    "Deadline",
    "EventChannelRule",
    "EvidenceKindRule",
    "FieldRule",
    "FollowupRules",
    "LadderStep",
    "Law",
    "LetterField",
    "LimitationPeriod",
    "PackWording",
    "Platform",
    "PlatformTiming",
    "ProblemType",
    "PunitiveRule",
    "RecipientWording",
    "Requirement",
    "Rules",
    "TargetProfile",
    "Urgency",
    "Vocabulary",
    "advice_for",
    "build_checklist",
    "case_value",
    "checklist_complete",
    "choices_text",
    "dossier_title",
    "exhibit_title",
    "kind_for_folder",
    "legal_bases",
    "legal_basis",
    "limitation_period",
    "load_rules",
    "load_rules_from",
    "matches",
    "megabytes_text",
    "no_reason_return_deadline",
    "platform_display_name",
    "platform_rules",
    "problem_type",
    "punitive_rule_for",
    "resolve_word",
    "statutory_amounts",
    "target_profile",
    "templates_folder",
    "urgency_for",
    "validate_credit_code",
]
