"""Shared fixtures: an isolated display-copy cache and the generated example case."""

from __future__ import annotations

import gc
import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Under PYTHONDONTWRITEBYTECODE pytest rewrites the asserts of every test module again on each run
# (about 3 s of a 4 s collection on one core) and each child interpreter a test starts compiles
# evidencekit again. Cached bytecode is checked against the source's mtime and size, so keeping it
# changes no result; it lands in the __pycache__ folders .gitignore already lists. Set before
# hypothesis is imported: pytest rewrites the asserts of all of hypothesis too (the package of a
# plugin), about 80 modules and 2 s a run when its rewritten bytecode cannot be kept beside it.
sys.dont_write_bytecode = False

from hypothesis import HealthCheck, settings  # noqa: E402  (after the line above, on purpose)

ROOT = Path(__file__).resolve().parents[1]


# Property tests check behaviour, not speed: a busy CI machine must not turn a slow example into
# a failure (tests never assert wall-clock time).
settings.register_profile("evidencekit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("evidencekit")


# Full garbage collections cost about 7 s of CPU on one core over the whole suite, most of it
# walking objects that live as long as the session: imported modules and the collected tests.
# Frozen once after collection, a full collection walks only what the tests made since. Nothing
# frozen is freed later, so this happens once, not per module (that would keep every module's
# garbage cycles alive). The two product races an earlier freeze exposed are fixed: the decode
# budget waits for a just-joined thread to leave /proc/self/task (media/budget.py), and SIGTERM
# during the font parse stays a SIGTERM (tests/test_fonts.py).
def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


_REAL: dict[str, Any] = {}  # what the session fixture patched, for the tests that want it back


@pytest.fixture(autouse=True, scope="session")
def _shared_fixtures_isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session and module fixtures are set up before any function-scoped fixture: they get the
    tests' cache folder and the absent OCR engine here (see the two fixtures below)."""
    from evidencekit.media import ocr

    _REAL["engine_version"] = ocr.engine_version
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EVIDENCEKIT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ek-cache"))
        patch.setattr(ocr, "engine_version", lambda: None)
        yield


@pytest.fixture(scope="session")
def real_ocr_engine_version(_shared_fixtures_isolated: None) -> Any:
    """The real ``ocr.engine_version``, for a session fixture that reads with the installed engine
    while it sets up (patch it in for that time only; its tests need the ocr_engine marker)."""
    return _REAL["engine_version"]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the developer's real cache folder from tests."""
    monkeypatch.setenv("EVIDENCEKIT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ek-cache"))


@pytest.fixture(autouse=True)
def _ocr_engine_absent(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as where the OCR extra is absent, so what they find does not depend on it and no
    test pays seconds per screenshot; OCR tests replace the engine (a fake) or are marked
    ``ocr_engine``, which gives them the real one back."""
    from evidencekit.media import ocr

    if request.node.get_closest_marker("ocr_engine") is None:
        monkeypatch.setattr(ocr, "engine_version", lambda: None)
    else:
        monkeypatch.setattr(ocr, "engine_version", _REAL["engine_version"])


def _load_example_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_example", ROOT / "examples" / "make_example.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_example"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def example_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example case, generated once per session (read-only: copy it before changing it)."""
    out = tmp_path_factory.mktemp("example") / "case"
    _load_example_module().make_example(out)
    return out


@pytest.fixture
def example_case(example_source: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the example case (mtimes kept) that a test may change."""
    dest = tmp_path / "case"
    shutil.copytree(example_source, dest, copy_function=shutil.copy2)
    yield dest


@pytest.fixture(scope="session")
def example_dossiers(example_source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One copy of the example case built once per target with the default options (read-only)."""
    from click.testing import CliRunner

    from evidencekit.cli import main
    from evidencekit.model import Target

    case = tmp_path_factory.mktemp("per-target") / "case"
    shutil.copytree(example_source, case, copy_function=shutil.copy2)
    built: dict[str, Path] = {}
    for target in Target:
        out = case.parent / f"dossier-{target.value}.pdf"
        result = CliRunner().invoke(main, ["build", str(case), "--target", target.value, "-o", str(out),
                                           "--force", "-q"])
        assert result.exit_code == 0, result.stderr
        built[target.value] = out
    return built


@pytest.fixture(scope="session")
def example_reproducible(example_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example case built with ``--reproducible --jobs 1`` on a cold cache (read-only).

    Returns the dossier; beside it are ``case/`` (the copy it was built from) and ``cache/`` (the
    display-copy cache that build filled).
    """
    from click.testing import CliRunner

    from evidencekit.cli import main

    root = tmp_path_factory.mktemp("reproducible")
    case = root / "case"
    shutil.copytree(example_source, case, copy_function=shutil.copy2)
    out = root / "dossier.pdf"
    result = CliRunner(env={"EVIDENCEKIT_CACHE_DIR": str(root / "cache")}).invoke(
        main, ["build", str(case), "-o", str(out), "--reproducible", "-q", "--jobs", "1"])
    assert result.exit_code == 0, result.stderr
    return out
