"""Names vulture reports as unused that are used, each with the reason.

Checked by `.ci/run`: ``vulture evidencekit vulture_whitelist.py --min-confidence 60``.
Attribute entries are written as ``_.name`` (vulture matches by name only).
"""

# ruff: noqa: B018
from evidencekit.cache import DisplayCache, _remove_fallbacks
from evidencekit.case import load
from evidencekit.cli.build import check
from evidencekit.cli.click_zh import ChineseContext, ChineseHelpFormatter
from evidencekit.cli.common import WordChoice
from evidencekit.integrity.tsa import make_request
from evidencekit.media.chats import parse_plain, parse_qianniu, parse_qq, parse_wechat
from evidencekit.media.suggest import suggest_moments
from evidencekit.model import ChatFormat, EvidenceKind, FileIdentity, Severity
from evidencekit.web import views_cases

_ = object()

_remove_fallbacks  # registered with @atexit.register
_.ensure_ascii  # Flask's JSON provider setting: Chinese error messages stay readable in JSON answers
_.max_content_length  # werkzeug Request: the body limit of this request (web.security)
_._csrf  # registered with @app.context_processor
views_cases.facts_page  # registered with @bp.route
load.__getattr__  # module __getattr__ (PEP 562): case.load.PLATFORMS and friends, computed on first use
check  # a click command, registered on the group by its decorator
DisplayCache.hits  # read by tests and benchmarks/bench_batch.py to prove a warm build decodes nothing
make_request  # the DER request bytes; tests and tests/fixtures/tsa/make_fixtures.sh build fixtures with it
parse_wechat  # one entry point per chat format: the tests pin each format's parser on its own
parse_qianniu
parse_qq
parse_plain
EvidenceKind.PRODUCT  # enum members: looked up by value from case.yaml and templates/
EvidenceKind.AFTERSALES
EvidenceKind.UNBOXING
EvidenceKind.LOGISTICS
EvidenceKind.COMPARISON
EvidenceKind.REPORT
Severity.ERROR  # a severity a Finding may carry; no check produces one at present
ChatFormat.QQ  # made by ChatFormat(name) from the winning parser's name in media/chats.py
ChatFormat.QQ_WINDOW
ChatFormat.QIANNIU
ChatFormat.WECHATMSG
ChatFormat.WECHATEXPORTER
ChatFormat.WECHAT
ChatFormat.WECHAT_WIN
ChatFormat.PLAIN
FileIdentity.dev  # compared as a whole (==) to notice an original swapped after hashing
FileIdentity.ino
FileIdentity.mtime_ns
FileIdentity.ctime_ns
_.replay_url  # a case.yaml field (the live-stream replay link), parsed and kept with the case
# Fields read from templates/ and validated at load, kept so the YAML schema is complete:
_.response  # platforms.yaml
_.typical_refund  # platforms.yaml
_.full_name  # platforms.yaml, legal.yaml
_.intervention  # platforms.yaml
_.intervention_confirmed  # platforms.yaml
_.intervention_source  # platforms.yaml
_.vendor  # filename_times.yaml: who writes names of this shape (required, for volunteers reading the table)
# Attributes set on third-party objects, read by that library:
_.Annots  # pikepdf page dictionary (pack)
_.PageLabels  # pikepdf document catalog (pack)
_.AF  # pikepdf catalog: PDF/A associated files (attach)
_.useA85  # reportlab.rl_config
_._multiBuildEdits  # reportlab DocTemplate internals (pdf/document.py)
_._doSave  # reportlab DocTemplate internals (pdf/document.py)
_._ttf_data  # reportlab TTFont internals (pdf/fonts.py)
_._pdfScale  # reportlab TTFont internals (pdf/fonts.py)
_.us_lines  # reportlab Paragraph internals (pdf/text.py)
_.thread_type  # PyAV codec context (recordings)
ChineseHelpFormatter.write_heading  # click.HelpFormatter methods click calls when it writes a help page
ChineseContext.formatter_class  # click.Context attribute: the formatter make_formatter() creates
_.context_class  # click.Command attributes set by click_zh.adopt, read by click
_.options_metavar
_.subcommand_metavar
WordChoice.get_missing_message  # click.ParamType method click calls for a missing required option
suggest_moments  # media/suggest.py: the moments alone, for callers that need no sampling report (tests)
# evidencekit serve: view functions Flask calls through their routes (@bp.get / @bp.post)
_.job_status  # views_build: GET /case/<name>/build/job
_.download  # views_build: GET /case/<name>/build/download/<file>
_.preview  # views_evidence: GET /case/<name>/evidence/preview/<n>/<segment>
_.save_fields  # views_evidence: POST /case/<name>/evidence/fields
_.save_redact  # views_evidence: POST /case/<name>/evidence/redact
_.selfcheck  # views_evidence: GET /case/<name>/selfcheck
