"""Deployment artifact sizes for arm64 / python3.13 against the Lambda limits.

Usage: .venv/bin/python bench/bench_artifact.py [--keep DIR]

Builds the core layer exactly as `sam build` does (make -C layers/core build-CoreLayer, which
installs arm64 / cp313 wheels with pip's --platform / --only-binary and compiles hash-based
bytecode with Python 3.13), zips it and each function's CodeUri, and reports the sizes against
Lambda's quotas: 50 MB zipped for a direct upload, 250 MB unzipped for a function with all its
layers. Needs the package index (pip) and a python3.13 on PATH (else says so and skips the
bytecode). The ratio is against the quota: 1.00x would be at the limit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT  # noqa: E402

ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024
MB = 1024 * 1024


def tree_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def zip_dir(src: Path, dest: Path, *, bytecode: bool) -> int:
    """Zip `src` as SAM would; a function's CodeUri holds only sources (no __pycache__)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for p in sorted(src.rglob("*")):
            if p.is_file() and (bytecode or "__pycache__" not in p.parts):
                z.write(p, p.relative_to(src))
    return dest.stat().st_size


def _is_313(python: str) -> bool:
    try:
        return subprocess.run(
            [python, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 13))"],
            capture_output=True, timeout=30,
        ).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_python313(preferred: str) -> str | None:
    """A Python 3.13 to compile bytecode with: `preferred`, else one that pyenv has installed."""
    if _is_313(preferred):
        return preferred
    if shutil.which("pyenv"):
        versions = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True)
        for v in versions.stdout.split():
            if v.startswith("3.13"):
                prefix = subprocess.run(["pyenv", "prefix", v], capture_output=True, text=True)
                candidate = str(Path(prefix.stdout.strip()) / "bin" / "python3.13")
                if _is_313(candidate):
                    return candidate
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="build into this directory and keep it")
    ap.add_argument("--python", default=os.environ.get("LAMBDA_PYTHON", "python3.13"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deskintake-artifact-"))
    out = args.keep or work / "layer"
    args.python = find_python313(args.python)
    have_313 = args.python is not None
    try:
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        t0 = time.perf_counter()
        if have_313:
            subprocess.run(["make", "-s", "-C", str(ROOT / "layers" / "core"), "build-CoreLayer",
                            f"ARTIFACTS_DIR={out}", f"LAMBDA_PYTHON={args.python}"],
                           check=True, env=env)
        else:
            print("no Python 3.13 found: building without bytecode (sizes of .py only)")
            (out / "python").mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
                            "--target", str(out / "python"), "--platform", "manylinux2014_aarch64",
                            "--implementation", "cp", "--python-version", "3.13",
                            "--only-binary=:all:", "-r", "requirements.txt"],
                           check=True, cwd=ROOT / "layers" / "core")
            shutil.copytree(ROOT / "layers/core/python/deskintake", out / "python/deskintake",
                            ignore=shutil.ignore_patterns("__pycache__"))
        built = time.perf_counter() - t0
        unzipped, nfiles = tree_size(out)
        layer_zip = zip_dir(out, work / "layer.zip", bytecode=True)
        per: dict[str, int] = defaultdict(int)
        for p in (out / "python").rglob("*"):
            if p.is_file():
                top = p.relative_to(out / "python").parts[0].split("-")[0].removesuffix(".py")
                per[top] += p.stat().st_size
        pyc = list((out / "python").rglob("*.cpython-313.pyc"))
        other_pyc = [p for p in (out / "python").rglob("*.pyc") if ".cpython-313." not in p.name]
        so = [p.name for p in (out / "python").rglob("*.so")]
        print(f"core layer (arm64, cp313 wheels, built in {built:.0f} s): {unzipped / MB:.1f} MB "
              f"unzipped in {nfiles} files, {layer_zip / MB:.1f} MB zipped")
        print(f"  bytecode: {len(pyc)} cpython-313 .pyc (hash-based), {len(other_pyc)} for other "
              f"versions; native extensions: {', '.join(sorted(so)) or 'none'}")
        top = sorted(per.items(), key=lambda kv: kv[1], reverse=True)[:8]
        print("  largest: " + ", ".join(f"{k} {v / MB:.1f} MB" for k, v in top))
        total_unzipped = unzipped
        for fn in sorted((ROOT / "functions").iterdir()):
            if fn.is_dir():
                size = zip_dir(fn, work / f"{fn.name}.zip", bytecode=False)
                raw = sum(p.stat().st_size for p in fn.rglob("*.py"))
                total_unzipped = max(total_unzipped, unzipped + raw)
                print(f"  function {fn.name:14s} {raw / 1024:6.1f} KB unzipped, {size / 1024:6.1f} KB zipped")
        print(f"against the quotas: layer zip {layer_zip / MB:.1f} / 50 MB = "
              f"{layer_zip / ZIPPED_LIMIT:.2f}x; largest function + layer unzipped "
              f"{total_unzipped / MB:.1f} / 250 MB = {total_unzipped / UNZIPPED_LIMIT:.2f}x "
              f"(boto3 comes with the runtime and is not counted)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
