"""Render and process-exit costs of a build (issue 15): the same results, less work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph
from reportlab.platypus.paraparser import ParaParser

from evidencekit.pdf import linecache
from evidencekit.pdf.fonts import load_fonts
from evidencekit.pdf.text import INK, LINK, MUTED, Seg, Styles, para

# A command run the way the console script runs it (evidencekit.cli:main, called without
# arguments). The object ``d`` says whether the interpreter tore the module down (its __del__ runs then); the atexit hook stands
# for the cleanups (temporary folders) that must run either way.
SCRIPT = textwrap.dedent("""
    import atexit, sys, threading
    class Teardown:
        def __del__(self):
            sys.stdout.write("teardown\\n"); sys.stdout.flush()
    d = Teardown()
    atexit.register(lambda: print("atexit", flush=True))
    if sys.argv[1] == "thread":
        # Alive until the interpreter shuts down (a join of the main thread returns only then).
        threading.Thread(target=threading.main_thread().join, args=(10,)).start()
    from evidencekit.cli import main
    sys.argv = ["evidencekit", *sys.argv[2:]]
    main()
""")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=60)


def test_success_ends_the_process_without_teardown_but_after_the_cleanups() -> None:
    done = run_cli("-", "--version")
    assert done.returncode == 0, done.stderr
    assert "evidencekit" in done.stdout  # printed and flushed before the end
    assert "atexit" in done.stdout
    assert "teardown" not in done.stdout


@pytest.mark.parametrize("args", [("-", "no-such-command"), ("thread", "--version")])
def test_failure_or_a_running_thread_exits_the_ordinary_way(args: tuple[str, ...]) -> None:
    done = run_cli(*args)
    assert ("teardown" in done.stdout) and ("atexit" in done.stdout), done.stdout + done.stderr


def test_module_entry_uses_the_fast_end() -> None:
    """`python -m evidencekit` goes the same way (run here through runpy, so that the object
    that tells teardown from none lives in the same process)."""
    script = SCRIPT.replace("from evidencekit.cli import main", "import runpy").replace(
        "\nmain()", "\nrunpy.run_module('evidencekit', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", script, "-", "--version"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "atexit" in done.stdout, done.stderr
    assert "teardown" not in done.stdout


def test_a_caller_passing_arguments_gets_clicks_ordinary_exit() -> None:
    """CliRunner (and any program embedding the CLI) passes ``args``: no os._exit under it."""
    from click.testing import CliRunner

    from evidencekit.cli import main

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "evidencekit" in result.output
    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0


# -- paragraphs with markup: parsed once per shape ------------------------------------------------

TEXTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
SEGS = st.builds(Seg, TEXTS, color=st.sampled_from([None, MUTED, LINK, INK]),
                 size=st.sampled_from([None, 8.0, 9.5]), link=st.sampled_from([None, "ex-1", "ex-22"]),
                 mono=st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(TEXTS, SEGS), max_size=5))
def test_markup_paragraphs_match_what_the_parser_makes(parts: list[str | Seg]) -> None:
    fonts = load_fonts(system_paths=())  # no system fallbacks: the same fonts everywhere
    styles = Styles(fonts)
    for style in (styles.cell, styles.small, styles.mono):
        made = para(fonts, style, *parts)
        parsed = Paragraph(made.text, style)  # reportlab's parser on the same markup
        assert made.text == parsed.text
        assert [vars(f) for f in made.frags] == [vars(f) for f in parsed.frags]
        # The lists fragments hold (links, underlines) are shared as the parser shares them,
        # and never with another paragraph.
        def sharing(frags: list[Any]) -> list[list[int]]:
            first: dict[int, int] = {}
            return [[first.setdefault(id(v), i) for k, v in sorted(vars(f).items()) if type(v) is list]
                    for i, f in enumerate(frags)]
        assert sharing(made.frags) == sharing(parsed.frags)
        again = para(fonts, style, *parts)
        assert not {id(v) for f in made.frags for v in vars(f).values() if type(v) is list} & \
            {id(v) for f in again.frags for v in vars(f).values() if type(v) is list}


def test_paragraphs_of_one_shape_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    fonts = load_fonts(system_paths=())
    styles = Styles(fonts)
    parsed: list[str] = []
    original = ParaParser.parse
    monkeypatch.setattr(ParaParser, "parse", lambda self, text, style: parsed.append(text) or original(self, text, style))
    made = [para(fonts, styles.cell, f"证据{n}\n", Seg(f"第 {n} 页 & 附件", color=MUTED, size=8.0)) for n in range(5)]
    assert len(parsed) == 1
    assert [f.text for f in made[3].frags] == ["证据3", "", "第 3 页 ", "&", " 附件"]


# -- line-cache keys --------------------------------------------------------------------------


def test_line_cache_keys_tell_every_look_apart() -> None:
    fonts = load_fonts(system_paths=())
    styles = Styles(fonts)
    cache = linecache.LineCache(None, {})

    def key(*parts: str | Seg, style: Any = None, widths: tuple[float, ...] = (200.0,)) -> str | None:
        return cache.key(para(fonts, style or styles.cell, *parts).frags, list(widths), "")

    same = key("证据 1", Seg("第 2 页", color=MUTED))
    assert same is not None and same == key("证据 1", Seg("第 2 页", color=MUTED))
    others = [key("证据 1", Seg("第 2 页", color=LINK)), key("证据 1", Seg("第 2 页", color=MUTED, size=8.0)),
              key("证据 1", Seg("第 2 页", color=MUTED, mono=True)), key("证据 1", Seg("第 3 页", color=MUTED)),
              key("证据 1", Seg("第 2 页", color=MUTED), style=styles.small),
              key("证据 1", Seg("第 2 页", color=MUTED), widths=(180.0,)), key("证据 1\n", Seg("第 2 页", color=MUTED))]
    assert same not in others and len(set(others)) == len(others)


def test_a_style_derived_after_use_gets_its_own_fragments() -> None:
    fonts = load_fonts(system_paths=())
    styles = Styles(fonts)
    shapes = (("纯文本",), ("证据 1\n", Seg("第 2 页", color=MUTED)))
    for parts in shapes:
        para(fonts, styles.small, *parts)  # what small's paragraphs look like is known now
    # reportlab copies the parent's attributes into the new style, whatever they are.
    big = ParagraphStyle("big", parent=styles.small, fontSize=20, leading=24)
    for parts in shapes:
        made = para(fonts, big, *parts)
        assert [vars(f) for f in made.frags] == [vars(f) for f in Paragraph(made.text, big).frags]
