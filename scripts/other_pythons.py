"""Run the suite without browsers on every other Python 3.10+ this machine has.

    python3 scripts/other_pythons.py [extra pytest args]

Interpreters are found under ``$(pyenv root)/versions`` and as ``python3.1N`` on PATH.
Each one gets a throwaway virtual environment with the package (editable; the front
end is already built) and its test extra, then runs ``pytest -m "not e2e"``. Prints
which ones ran; exits non-zero if any failed, or if Python 3.10 (the oldest version
the package supports) was not among them or the Python running this script.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OLDEST = (3, 10)


def version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = map(int, out.split())
    return major, minor


def candidates() -> dict[tuple[int, int], str]:
    """One interpreter per version (3.10 and newer), the running one excluded."""
    paths: list[str] = []
    try:
        root = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=True
        ).stdout.strip()
        paths += sorted(str(p) for p in Path(root, "versions").glob("*/bin/python3"))
    except (OSError, subprocess.CalledProcessError):
        pass
    paths += [p for minor in range(10, 20) if (p := shutil.which(f"python3.{minor}"))]
    found: dict[tuple[int, int], str] = {}
    for path in paths:
        version = version_of(path)
        if version and version >= OLDEST and version != sys.version_info[:2]:
            found.setdefault(version, path)
    return dict(sorted(found.items()))


def run(python: str, version: tuple[int, int], pytest_args: list[str]) -> bool:
    label = ".".join(map(str, version))
    with tempfile.TemporaryDirectory(prefix=f"livechat-py{label}-") as tmp:
        venv = Path(tmp) / "venv"
        print(f"== Python {label} ({python}): installing into a throwaway venv", flush=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        bin_python = str(venv / "bin" / "python")
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        subprocess.run(
            [bin_python, "-m", "pip", "install", "-q", "-e", f"{REPO}[test]"],
            check=True,
            env=env,
            cwd=REPO,
        )
        print(f"== Python {label}: pytest -m 'not e2e'", flush=True)
        result = subprocess.run(
            [
                bin_python,
                "-m",
                "pytest",
                "-m",
                "not e2e",
                "--ignore=tests/e2e",
                "-p",
                "no:cacheprovider",
                "-q",
                *pytest_args,
            ],
            env=env,
            cwd=REPO,
        )
        return result.returncode == 0


def main() -> int:
    found = candidates()
    ran, failed = [], []
    for version, python in found.items():
        ok = run(python, version, sys.argv[1:])
        ran.append(".".join(map(str, version)))
        if not ok:
            failed.append(".".join(map(str, version)))
    current = ".".join(map(str, sys.version_info[:2]))
    print(
        f"Ran the suite without browsers on Python {', '.join(ran) or '(none)'} "
        f"(and the full suite on {current}).",
        flush=True,
    )
    if failed:
        print(f"FAILED on Python {', '.join(failed)}", file=sys.stderr)
        return 1
    if ".".join(map(str, OLDEST)) not in [*ran, current]:
        print(
            "Python 3.10 was not found: the oldest supported version must be tested "
            "(install it, e.g. with pyenv).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
