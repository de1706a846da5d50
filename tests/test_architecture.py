"""The package's shape: no import cycles, and no import hidden inside a function without a reason.

A cycle between our modules only works while every import in it happens at call time, which
hides the dependency from readers and tools. So the module graph is built from top-level imports
(what runs when a module is imported) and must be acyclic; an import inside a function is allowed
only where it keeps ``evidencekit --help`` fast or keeps a heavy native library (PyAV, PDFium,
pikepdf, reportlab, LittleCMS, libheif, the RFC 3161 stack) unloaded until a file needs it.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import evidencekit

PACKAGE_DIR = Path(evidencekit.__file__).parent

_CLI = "the CLI imports library modules inside commands so `evidencekit --help` loads none of them"
_PDFIUM = "pypdfium2 (PDFium) is loaded only when a page is rasterised"
_PIKEPDF = "pikepdf (qpdf) is loaded only when a PDF is opened or written"
_SERVE = "serve must start in under 2 s"
_AV = "PyAV (FFmpeg) is loaded only when a recording is decoded, never for --help"
_SERVE = "serve must start in under 2 s: the pipeline, reportlab, pikepdf and media load with the first page that needs them"

# (importing module, imported module) -> why the import waits for the call. Third-party imports
# are keyed by their top-level package.
LAZY_IMPORTS: dict[tuple[str, str], str] = {
    ("evidencekit.cli.serve", "waitress"): _CLI,
    ("evidencekit.cli.serve", "evidencekit.web.app"): _CLI,
    ("evidencekit.cli.serve", "evidencekit.web.security"): _CLI,
    ("evidencekit.case.interview", "evidencekit.readfacts"): "readfacts loads the OCR field readers; only `init --from` and the page's OCR button read screenshots",
    ("evidencekit.web.views_cases", "evidencekit.media.ocr"): _SERVE,
    ("evidencekit.web.views_cases", "evidencekit.pipeline"): _SERVE,
    ("evidencekit.cli.build", "evidencekit.pipeline"): _CLI,
    ("evidencekit.cli.common", "evidencekit.pipeline"): _CLI,
    ("evidencekit.cli.build", "evidencekit.report"): _CLI,
    ("evidencekit.cli.case", "evidencekit.case.folder"): _CLI,
    ("evidencekit.cli.case", "evidencekit.rules.catalog"): _CLI,
    ("evidencekit.cli.case", "evidencekit.case.load"): _CLI,
    ("evidencekit.cli.case", "evidencekit.case.interview"): _CLI,
    ("evidencekit.cli.case", "evidencekit.case.edit"): _CLI,
    ("evidencekit.cli.case", "evidencekit.case.inventory"): _CLI,
    ("evidencekit.cli.case", "evidencekit.media.ocr"): _CLI,
    ("evidencekit.cli.case", "evidencekit.media.suggest"): _CLI,
    ("evidencekit.cli.case", "evidencekit.pipeline"): _CLI,
    ("evidencekit.cli.common", "evidencekit.rules.catalog"): _CLI,
    ("evidencekit.cli.batch", "evidencekit.channels.batch"): _CLI,
    ("evidencekit.cli.followup", "evidencekit.case.followup"): _CLI,
    ("evidencekit.cli.followup", "evidencekit.rules.catalog"): _CLI,
    ("evidencekit.cli.inspect", "evidencekit.case.load"): _CLI,
    ("evidencekit.cli.inspect", "evidencekit.inspection_report"): _CLI,
    ("evidencekit.cli.inspect", "evidencekit.media.suggest"): _CLI,
    ("evidencekit.cli.letter", "evidencekit.channels.letter"): _CLI,
    ("evidencekit.cli.letter", "evidencekit.pipeline"): _CLI,
    ("evidencekit.cli.pack", "evidencekit.channels.pack"): _CLI,
    ("evidencekit.cli.verify", "evidencekit.integrity.stamp"): _CLI,
    ("evidencekit.cli.verify", "evidencekit.integrity.tsa"): _CLI,
    ("evidencekit.cli.verify", "evidencekit.integrity.verify"): _CLI,
    ("evidencekit.pipeline", "evidencekit.pdf.render"): "reportlab is loaded by `build` only, not by `check` or batch's check",
    ("evidencekit.pipeline", "evidencekit.integrity.attach"): "pikepdf is loaded by `build` only, not by `check`",
    ("evidencekit.channels.pack", "evidencekit.pdf.exhibits"): "reportlab is loaded only for a channel that takes page images",
    ("evidencekit.channels.pack", "evidencekit.pdf.summary"): "reportlab is loaded only for a channel that takes page images",
    ("evidencekit.channels.pack", "pikepdf"): _PIKEPDF,
    ("evidencekit.channels.pack", "pypdfium2"): _PDFIUM,
    ("evidencekit.integrity.attach", "pikepdf"): _PIKEPDF,
    ("evidencekit.integrity.verify", "pikepdf"): _PIKEPDF,
    ("evidencekit.integrity.verify", "pypdfium2"): _PDFIUM,
    ("evidencekit.integrity.tsa", "cryptography"): "cryptography's X.509 code is loaded only when a token is checked",
    ("evidencekit.integrity.tsa", "rfc3161_client"): "the RFC 3161 client is loaded only by stamp and token checks",
    ("evidencekit.media.audio", "av"): _AV,
    ("evidencekit.media.ocr", "numpy"): "numpy comes with the optional OCR extra and is loaded by the OCR child process only",
    ("evidencekit.media.ocr", "rapidocr"): "the optional OCR engine (onnxruntime, OpenCV) is loaded by the OCR child process only",
    ("evidencekit.media.container", "av"): _AV,
    ("evidencekit.media.recordings", "av"): _AV,
    ("evidencekit.media.documents", "pypdfium2"): _PDFIUM,
    ("evidencekit.media.images", "PIL"): "ImageCms (LittleCMS) and ImageChops are loaded only for images that need them",
    ("evidencekit.media.images", "pillow_heif"): "libheif is loaded only when a HEIC photo turns up",
    ("evidencekit.pdf.fonts", "reportlab"): "reportlab is loaded only when a font is registered for drawing",
    ("evidencekit.fsutil", "fcntl"): "POSIX only: the lock uses fcntl or msvcrt, whichever exists",
    ("evidencekit.fsutil", "msvcrt"): "Windows only: the lock uses fcntl or msvcrt, whichever exists",
    ("evidencekit.media.budget", "resource"): "POSIX only: rlimits do not exist on Windows",
    ("evidencekit.media.budget", "ctypes"): "Linux only: prctl(PR_SET_PDEATHSIG) through libc",
    ("evidencekit.web.views_build", "evidencekit.channels.letter"): _SERVE,
    ("evidencekit.web.views_build", "evidencekit.channels.pack"): _SERVE,
    ("evidencekit.web.views_build", "evidencekit.pipeline"): _SERVE,
    ("evidencekit.web.views_build", "pypdfium2"): _PDFIUM,
    ("evidencekit.web.views_evidence", "evidencekit.media.images"): _SERVE,
    ("evidencekit.web.views_evidence", "evidencekit.pipeline"): _SERVE,
    ("evidencekit.web.views_evidence", "evidencekit.report"): _SERVE,
}


def module_name(path: Path) -> str:
    parts = ["evidencekit", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


@functools.cache
def parse(path: Path) -> ast.Module:
    """The syntax tree of one of our modules, parsed once for this test module (callers only read it)."""
    return ast.parse(path.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True, scope="module")
def _trees_forgotten_afterwards() -> Iterator[None]:
    """The trees are some 240,000 objects: kept for the rest of the session, they were half of
    what every later full garbage collection walked (about 0.25 s each on one core)."""
    yield
    parse.cache_clear()


def _resolve(name: str) -> str | None:
    """The module of ours that ``name`` (a module or ``module.attribute``) refers to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    return [base, *(f"{base}.{a.name}" for a in node.names)]


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


# An import is a statement, so only the blocks of statements are walked (a body, an else, a
# finally, except handlers, match cases), never the expressions that are most of a tree.
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _imports(tree: ast.AST, *, in_function: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every runtime import with whether it sits inside a function (TYPE_CHECKING blocks skipped)."""
    for block in _BLOCKS:
        children = getattr(tree, block, None)
        if not isinstance(children, list):
            continue  # e.g. the body of a lambda or of an if-expression: an expression
        for child in children:
            if _is_type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function
            yield from _imports(child, in_function=in_function
                                or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports at import time."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node, in_function in _imports(parse(path)):
            if in_function:
                continue
            for imported in _imported_names(node):
                if imported.split(".")[0] == "evidencekit" and (target := _resolve(imported)) not in (None, name):
                    assert target is not None
                    targets.add(target)
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def function_level_imports() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for name, path in MODULES.items():
        for node, in_function in _imports(parse(path)):
            if not in_function:
                continue
            module = node.names[0].name if isinstance(node, ast.Import) else (node.module or "")
            key = _resolve(module) if module.startswith("evidencekit") else module.split(".")[0]
            found.add((name, key or module))
    return found


def test_the_module_graph_has_no_cycle() -> None:
    assert find_cycle(import_graph(MODULES)) is None, f"import cycle: {' -> '.join(find_cycle(import_graph(MODULES)) or [])}"


def test_find_cycle_sees_a_cycle() -> None:
    # The checker itself: a planted cycle is reported, a chain is not.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_every_module_imports_on_its_own_in_a_fresh_interpreter() -> None:
    # Each module is imported first, with none of ours loaded yet: an import-order dependency
    # (a cycle that only works when entered from one side) fails here with its traceback.
    # Every module body still runs afresh each time; only compiled code is kept: that of a source
    # file (keyed by path and source bytes), since recompiling the package for each of its modules
    # (or unmarshalling its bytecode files, 0.5 s) would be most of this test's time, and that of
    # the methods @dataclass writes as text and compiles for every class (keyed by that text),
    # which was most of the rest. A code object is immutable; each class still gets its own new
    # functions.
    script = (
        "import builtins, dataclasses, importlib, sys\n"
        "from importlib.machinery import SourceFileLoader\n"
        "_get_code, _codes = SourceFileLoader.get_code, {}\n"
        "def _cached(self, fullname):\n"
        "    path = self.get_filename(fullname)\n"
        "    key = (path, self.get_data(path))\n"
        "    if key not in _codes:\n"
        "        _codes[key] = _get_code(self, fullname)\n"
        "    return _codes[key]\n"
        "SourceFileLoader.get_code = _cached\n"
        "_texts = {}\n"
        "def _exec_compiled_once(source, globals=None, locals=None, /):\n"
        "    if isinstance(source, str):\n"
        "        if source not in _texts:\n"
        "            _texts[source] = compile(source, '<string>', 'exec')\n"
        "        source = _texts[source]\n"
        "    return builtins.exec(source, globals, locals)\n"
        "dataclasses.exec = _exec_compiled_once  # found before the builtin by dataclasses' own code\n"
        f"for name in {sorted(MODULES)!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'evidencekit' or m.startswith('evidencekit.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_function_level_imports_are_allow_listed_with_a_reason() -> None:
    found = function_level_imports()
    unexplained = sorted(found - LAZY_IMPORTS.keys())
    assert not unexplained, (
        "imports inside functions without a reason (move them to the top of the module, or add "
        f"them to LAZY_IMPORTS with why they must wait): {unexplained}"
    )
    stale = sorted(LAZY_IMPORTS.keys() - found)
    assert not stale, f"LAZY_IMPORTS lists imports that no longer exist: {stale}"
    assert all(reason.strip() for reason in LAZY_IMPORTS.values())


def test_exception_classes_live_in_errors_py() -> None:
    # One place to find what can go wrong. Private ``_X`` exceptions are local control flow
    # (raised and caught in the same module) and stay next to their only use.
    bases = {"Exception", "BaseException", "ValueError", "OSError", "KeyboardInterrupt"}
    errors_tree = parse(PACKAGE_DIR / "errors.py")
    bases |= {n.name for n in errors_tree.body if isinstance(n, ast.ClassDef)}
    elsewhere = [
        f"{name}.{node.name}"
        for name, path in MODULES.items() if name != "evidencekit.errors"
        for node in parse(path).body
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
        and any(isinstance(b, ast.Name) and (b.id in bases or b.id.endswith(("Error", "Exception"))) for b in node.bases)
    ]
    assert not elsewhere, f"exception classes outside errors.py: {elsewhere}"


def test_the_library_does_not_import_the_cli() -> None:
    # The CLI calls the library, never the other way round (the library raises; the CLI prints).
    graph = import_graph(MODULES)
    upward = sorted(f"{name} -> {target}" for name, targets in graph.items() if not name.startswith("evidencekit.cli")
                    and name != "evidencekit.__main__" for target in targets if target.startswith("evidencekit.cli"))
    assert not upward, upward
