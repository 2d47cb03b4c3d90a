"""Compile the matching engine's submodules with mypyc into var/engine-build/.

`make engine` runs this. The build lands outside the source tree (see DEFAULT_BUILD_DIR in
apps/matching/engine/__init__.py for why) and carries a stamp: the digest of the sources it was
compiled from, the mypy that compiled it and the interpreter it is for. When the stamp still
matches, nothing is done; when the sources change, the next run rebuilds. The package's
__init__.py reads the same stamp at import and uses the build only while it matches, so a stale
build is never run.

    python scripts/build_engine.py             # build if stale; exit 1 if compiling fails
    python scripts/build_engine.py --optional  # the same, but a failure only warns: the desk
                                               # then runs the engine as plain Python
"""

import argparse
import contextlib
import fcntl
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# This script only needs the package's stamp helpers; whatever build exists must not be loaded
# while it is being replaced.
os.environ["CWTS_ENGINE"] = "pure"

import apps.matching.engine as engine_package  # noqa: E402

GROUP_NAME = "cwts_engine"
# mypy reads no project configuration for the compile (the Django plugins are for `make types`,
# which checks these sources strictly); this is all it needs.
MYPY_CONFIG = "[mypy]\nfollow_imports = normal\nwarn_unused_configs = False\n"


def wanted_stamp() -> dict[str, str]:
    return {
        "source_digest": engine_package.source_digest(),
        "mypy": importlib.metadata.version("mypy"),
        "extension_suffix": engine_package.extension_suffix(),
    }


def current_stamp(directory: Path) -> dict[str, str]:
    try:
        stamp: dict[str, str] = json.loads((directory / engine_package.STAMP_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return stamp


@contextlib.contextmanager
def build_lock(directory: Path) -> Iterator[None]:
    """One build at a time per build directory (`make run` and `make test` may start together);
    the second waits, then finds the first one's build current."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.with_name(directory.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def compile_into(work: Path) -> None:
    """mypyc generates C for the submodules (not __init__.py, which must stay plain Python to
    choose the build) into work/c; setuptools compiles it into work/lib, laid out as packages,
    with the shared group module at the top. Raises SystemExit when either step fails."""
    from mypyc.build import mypycify
    from setuptools import setup  # type: ignore[import-untyped]

    sources = [
        str(engine_package.SOURCE_DIR / f"{name}.py")
        for name in engine_package.compiled_module_names()
    ]
    (work / "mypy.ini").write_text(MYPY_CONFIG)
    previous = Path.cwd()
    # mypycify writes its C and mypy's cache relative to the working directory.
    os.chdir(work)
    try:
        extensions = mypycify(
            ["--config-file", str(work / "mypy.ini"), *sources],
            target_dir="c",
            group_name=GROUP_NAME,
            opt_level="3",
        )
        setup(
            name="cwts-engine-compiled",
            ext_modules=extensions,
            script_args=["--quiet", "build_ext", "--build-lib", "lib", "--build-temp", "temp"],
        )
    finally:
        os.chdir(previous)


def build(directory: Path, *, force: bool) -> bool:
    """Make the build in `directory` current; True if anything was compiled."""
    with build_lock(directory):
        stamp = wanted_stamp()
        if not force and current_stamp(directory) == stamp:
            return False
        work = Path(tempfile.mkdtemp(prefix=directory.name + ".new-", dir=directory.parent))
        work.chmod(0o755)  # mkdtemp's 0700 would hide the build from other users
        try:
            compile_into(work)
            for scratch in ("c", "temp", ".mypy_cache", "mypy.ini", "build"):
                path = work / scratch
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
            # The stamp last: a directory without one is never used.
            (work / engine_package.STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")
            # Swap whole directories, so that a process starting meanwhile sees the old build
            # or the new one, never half of each. One already running keeps the files it
            # mapped: unlinking them does not pull them from under it.
            retired = directory.with_name(f"{directory.name}.old-{os.getpid()}")
            if directory.exists():
                directory.rename(retired)
            work.rename(directory)
            shutil.rmtree(retired, ignore_errors=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--optional",
        action="store_true",
        help="warn instead of failing when the engine cannot be compiled",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if current")
    arguments = parser.parse_args()
    directory = engine_package.build_dir()
    started = time.monotonic()
    try:
        compiled = build(directory, force=arguments.force)
    except (Exception, SystemExit) as exc:
        # mypyc and setuptools report a type error or a compiler failure as SystemExit.
        reason = f"{type(exc).__name__}: {exc}"
        if arguments.optional:
            print(
                f"WARNING: the engine could not be compiled ({reason}); it runs as plain Python.",
                file=sys.stderr,
            )
            return 0
        print(f"ERROR: the engine could not be compiled ({reason}).", file=sys.stderr)
        return 1
    if compiled:
        print(f"engine: compiled with mypyc into {directory} in {time.monotonic() - started:.0f}s")
    else:
        print(f"engine: the compiled build in {directory} is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
