"""Shared fixtures: an isolated display-copy cache and the generated example case."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]


# Property tests check behaviour, not speed: a busy CI machine must not turn a slow example into
# a failure (tests never assert wall-clock time).
settings.register_profile("evidencekit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("evidencekit")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the developer's real cache folder from tests."""
    monkeypatch.setenv("EVIDENCEKIT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ek-cache"))


@pytest.fixture(autouse=True)
def _ocr_engine_absent(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as where the OCR extra is absent, so what they find does not depend on it and no
    test pays seconds per screenshot; OCR tests replace the engine (a fake) or are marked ``ocr_engine``."""
    if request.node.get_closest_marker("ocr_engine") is None:
        from evidencekit.media import ocr

        monkeypatch.setattr(ocr, "engine_version", lambda: None)


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
