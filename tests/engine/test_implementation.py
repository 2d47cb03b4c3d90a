"""The engine runs as plain Python or compiled by mypyc (scripts/build_engine.py); both must be
the same engine. `make test` runs the whole suite once on each: the PostgreSQL pass with
CWTS_ENGINE=compiled, the SQLite pass with CWTS_ENGINE=pure."""

import json
import os
import subprocess
import sys
from pathlib import Path

import apps.matching.engine
import apps.matching.engine.engine
from tests.engine import seeded_stream

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {"pure": "pure-python", "compiled": "compiled"}


def _run_stream(implementation: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.engine.seeded_stream"],
        cwd=ROOT,
        env={**os.environ, "CWTS_ENGINE": implementation, **environment},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_engine_in_use_is_the_one_asked_for() -> None:
    wanted = os.environ.get("CWTS_ENGINE", "").strip().lower() or "auto"
    if wanted == "auto":
        build = apps.matching.engine.build_dir()
        current = apps.matching.engine.build_problem(build) is None
        expected = "compiled" if current else "pure-python"
    else:
        expected = EXPECTED[wanted]
    assert expected == apps.matching.engine.IMPLEMENTATION
    # The module really loaded from where the name says: an extension module or the source.
    module_file = apps.matching.engine.engine.__file__
    assert module_file is not None
    if expected == "compiled":
        assert module_file.endswith(apps.matching.engine.extension_suffix())
        assert not module_file.startswith(str(apps.matching.engine.SOURCE_DIR))
    else:
        assert module_file == str(apps.matching.engine.SOURCE_DIR / "engine.py")


def test_compiled_and_pure_engines_give_the_same_events() -> None:
    here = apps.matching.engine.IMPLEMENTATION
    other = "pure" if here == "compiled" else "compiled"
    if other == "compiled":
        # `make test` builds the engine first; a bare pytest run needs `make engine`.
        problem = apps.matching.engine.build_problem(apps.matching.engine.build_dir())
        assert problem is None, f"no compiled engine to compare with: {problem}"
    result = _run_stream(other)
    assert result.returncode == 0, result.stderr
    implementation, *their_lines = result.stdout.splitlines()
    assert implementation == EXPECTED[other]
    our_lines = seeded_stream.event_lines()
    assert len(our_lines) > 3_000  # a stream that trades, rests, cancels and rejects
    assert their_lines == our_lines


def test_insisting_on_a_missing_build_fails_the_import_with_a_sentence(tmp_path: Path) -> None:
    result = _run_stream("compiled", CWTS_ENGINE_BUILD=str(tmp_path / "no-build"))
    assert result.returncode != 0
    assert "ImportError: CWTS_ENGINE=compiled, but there is no compiled engine build" in (
        result.stderr
    )


def test_a_build_of_other_sources_is_stale(tmp_path: Path) -> None:
    stamp = {"source_digest": "0000", "extension_suffix": apps.matching.engine.extension_suffix()}
    (tmp_path / apps.matching.engine.STAMP_NAME).write_text(json.dumps(stamp))
    problem = apps.matching.engine.build_problem(tmp_path)
    assert problem is not None
    assert "made from other sources" in problem
    result = _run_stream("auto", CWTS_ENGINE_BUILD=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "pure-python"
