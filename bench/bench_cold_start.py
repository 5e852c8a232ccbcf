"""Cold start of each Lambda function: import + handler init, against `import boto3` alone.

Usage: .venv/bin/python bench/bench_cold_start.py [--samples 7] [--no-source] [--instructions]

Every sample is a fresh interpreter with the function's environment from template.yaml. It loads
functions/<fn>/handler.py by file path as the Lambda runtime does (the INIT phase), then builds
what the first invocation builds (the wiring: env validation, boto3 clients, adapters, the
resolver, the parse of the event). Both are reported: "import" is Lambda's INIT phase, "+ first
call" what the first invocation adds before its own work. Times are taken inside the
interpreter, so the interpreter's own start-up (which every function pays) is left out of both
sides of the ratio. Baselines and functions are sampled in interleaved rounds, so a change in
the machine's load hits both sides of a ratio alike. Package and handler .pyc are present (written first), as in
a layer built with `compileall --invalidation-mode unchecked-hash`. A second table runs with an
empty -X pycache_prefix: every module compiled from source, the cost of a bundle without
bytecode (e.g. `sam build` on its own). Then -X importtime names the largest imports.

--instructions adds a table that does not depend on the machine's load: the instructions each
cold start executes (valgrind's cachegrind, one run each, hash seed fixed), less those of an
empty interpreter. CPU times on a shared machine swing by 10-20% between runs; these counts
repeat to within 0.1%, so they show changes of a few percent that the timings cannot.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, compile_bytecode, fresh, function_env, ms, stats  # noqa: E402

# What the first invocation of each function builds before its work starts.
_SES_EVENT = (
    "from datetime import datetime, UTC; from deskintake.inbound.ses import SesEvent, ses_event; "
    "SesEvent.model_validate(ses_event('x', timestamp=datetime.now(UTC), source='a@b.example', "
    "recipients=['c@d.example']))"
)
INIT = {
    "EmailIntakeFunction": (
        "functions/email_intake/handler.py",
        "from deskintake.runtime.wiring import email_intake_deps; email_intake_deps(); "
        + _SES_EVENT,
        ("dynamodb", "events", "s3"),  # SES: built on the first acknowledgement (LazyClient)
    ),
    "ChatWebhookFunction": (
        "functions/chat_webhook/handler.py",
        "from deskintake.runtime.chat_wiring import chat_deps; chat_deps(); handler.resolver()",
        ("dynamodb", "events", "s3"),
    ),
    "FollowUpFunction": (
        "functions/follow_up/handler.py",
        "from deskintake.runtime.follow_up_wiring import follow_up_deps; follow_up_deps()",
        (),
    ),
    "TicketsApiFunction": (
        "functions/tickets_api/handler.py",
        "from deskintake.runtime.api_wiring import tickets_deps; tickets_deps()",
        ("dynamodb",),  # a read (the dashboard's first request); SES, EventBridge on first write
    ),
}
TARGETS = {"EmailIntakeFunction": 1.5, "ChatWebhookFunction": 1.5}

# Each phase in wall time and in CPU time (process_time: what the process itself spent, without
# waiting for the other processes of a loaded machine). Lambda bills and waits on wall time; on an
# otherwise idle sandbox the two agree.
_HANDLER = """
import time, json, sys, importlib.util
t0, c0 = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("handler", {path!r})
handler = importlib.util.module_from_spec(spec)
sys.modules["handler"] = handler
spec.loader.exec_module(handler)
t1, c1 = time.perf_counter(), time.process_time()
{init}
t2, c2 = time.perf_counter(), time.process_time()
{extra}
t3, c3 = time.perf_counter(), time.process_time()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2, c1 - c0, c2 - c1, c3 - c2]))
"""

_BOTO = """
import time, json
t0, c0 = time.perf_counter(), time.process_time()
import boto3
t1, c1 = time.perf_counter(), time.process_time()
for s in {clients!r}:
    boto3.client(s)
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps([t1 - t0, t2 - t1, 0.0, c1 - c0, c2 - c1, 0.0]))
"""


def sample(code: str, env: dict[str, str], n: int, args: list[str] | None = None) -> list[list[float]]:
    return [fresh(code, env=env, args=args) for _ in range(n)]


def column(runs: list[list[float]], i: int) -> list[float]:
    return [r[i] for r in runs]


def instructions(code: str, env: dict[str, str]) -> int:
    """Instructions one fresh interpreter executes for `code` (valgrind cachegrind)."""
    out = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", code],
        capture_output=True, text=True, env=dict(env, PYTHONHASHSEED="0"), cwd=ROOT, check=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if not found:
        raise RuntimeError(f"no instruction count from valgrind: {out.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def instruction_table() -> None:
    """Each function's cold start in instructions, against the same baselines."""
    from concurrent.futures import ThreadPoolExecutor

    env_any = function_env()
    jobs: dict[str, tuple[str, dict[str, str]]] = {
        "start-up": ("pass", env_any), "import boto3": ("import boto3", env_any)}
    for fn, (path, init, clients) in INIT.items():
        env = function_env(fn)
        jobs[f"{fn} INIT"] = (_HANDLER.format(path=str(ROOT / path), init="pass", extra="pass"), env)
        jobs[f"{fn} all"] = (_HANDLER.format(path=str(ROOT / path), init=init, extra="pass"), env)
        jobs[f"{fn} floor"] = (_BOTO.format(clients=clients), env)
    with ThreadPoolExecutor(2) as pool:  # the counts do not depend on what else runs
        counts = dict(zip(jobs, pool.map(lambda job: instructions(*job), jobs.values()), strict=True))
    start = counts["start-up"]
    boto = counts["import boto3"] - start
    print("instructions (millions, less an empty interpreter's start-up), one run each:")
    print(f"  baseline: import boto3                {boto / 1e6:7.0f} M")
    for fn, (_, _, clients) in INIT.items():
        init_only, total = counts[f"{fn} INIT"] - start, counts[f"{fn} all"] - start
        floor = counts[f"{fn} floor"] - start
        print(f"  {fn:20s} {total / 1e6:7.0f} M (INIT phase {init_only / 1e6:.0f} M; + first call "
              f"{(total - init_only) / 1e6:.0f} M): INIT phase {init_only / boto:4.2f}x, INIT + first "
              f"call {total / boto:4.2f}x import boto3; {total / floor:4.2f}x import boto3 + its "
              f"{len(clients)} client(s)")


def importtime(code: str, env: dict[str, str]) -> list[tuple[float, str]]:
    """Self time per top-level package (ms) of one fresh interpreter run with -X importtime."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
    )
    per: dict[str, float] = defaultdict(float)
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            per[m.group(4).split(".")[0]] += int(m.group(1)) / 1000
    return sorted(((v, k) for k, v in per.items()), reverse=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=7)
    ap.add_argument("--no-source", action="store_true", help="skip the no-.pyc table")
    ap.add_argument("--instructions", action="store_true",
                    help="also count instructions with valgrind (about 3 minutes)")
    args = ap.parse_args()
    compile_bytecode()
    n = args.samples

    env_any = function_env()
    envs = {fn: function_env(fn) for fn in INIT}
    boto: list[list[float]] = []
    runs: dict[str, list[list[float]]] = {fn: [] for fn in INIT}
    floors: dict[str, list[list[float]]] = {fn: [] for fn in INIT}
    for _ in range(n):  # interleaved rounds: load changes hit every figure alike
        boto += sample(_BOTO.format(clients=()), env_any, 1)
        for fn, (path, init, clients) in INIT.items():
            code = _HANDLER.format(path=str(ROOT / path), init=init, extra="pass")
            runs[fn] += sample(code, envs[fn], 1)
            floors[fn] += sample(_BOTO.format(clients=clients), envs[fn], 1)
    boto_imp, boto_min = stats(column(boto, 0))
    boto_cpu = stats(column(boto, 3))[0]
    print(f"cold start, median of {n} fresh interpreters, .pyc present; wall [min wall] / CPU")
    print(f"  baseline: import boto3                {ms(boto_imp)} [{ms(boto_min).strip()}] / "
          f"{ms(boto_cpu).strip()} CPU")
    for fn, (_, _, clients) in INIT.items():
        imp = stats(column(runs[fn], 3))[0]
        ini = stats(column(runs[fn], 4))[0]
        total, total_min = stats([r[0] + r[1] for r in runs[fn]])
        cpu = stats([r[3] + r[4] for r in runs[fn]])[0]
        floor_cpu = stats([r[3] + r[4] for r in floors[fn]])[0]
        target = TARGETS.get(fn)
        verdict = (
            f"; target <= {target}x: {'ok' if cpu / boto_cpu <= target else 'OVER'}" if target else ""
        )
        print(
            f"  {fn:20s} {ms(total)} [{ms(total_min).strip()}] / {ms(cpu).strip()} CPU "
            f"(INIT phase: import {ms(imp).strip()}; + first call {ms(ini).strip()})\n"
            f"  {'':20s} INIT phase only: CPU {imp / boto_cpu:4.2f}x import boto3\n"
            f"  {'':20s} INIT + first call: CPU {cpu / boto_cpu:4.2f}x import boto3{verdict}; "
            f"{cpu / floor_cpu:4.2f}x import boto3 + its {len(clients)} client(s) "
            f"({ms(floor_cpu).strip()})"
        )

    # Tracer: what instrumenting the email function with Powertools' Tracer would add.
    path, init, _ = INIT["EmailIntakeFunction"]
    env = function_env("EmailIntakeFunction")
    env["POWERTOOLS_TRACE_DISABLED"] = "false"
    tr = sample(
        _HANDLER.format(
            path=str(ROOT / path), init=init,
            extra="from aws_lambda_powertools import Tracer; Tracer(service='x', patch_modules=['botocore'])",
        ),
        env, n,
    )
    extra, extra_min = stats(column(tr, 2))
    extra_cpu = stats(column(tr, 5))[0]
    print(
        f"  + Powertools Tracer() on the email function: +{ms(extra).strip()} [{ms(extra_min).strip()}]"
        f" / +{ms(extra_cpu).strip()} CPU ({extra_cpu / boto_cpu:.2f}x import boto3)"
    )

    if not args.no_source:
        with tempfile.TemporaryDirectory() as empty:
            src_args = ["-X", f"pycache_prefix={empty}"]
            k = max(3, n // 3)
            env_src = dict(env_any, PYTHONDONTWRITEBYTECODE="1")
            b = stats(column(sample(_BOTO.format(clients=()), env_src, k, src_args), 3))[0]
            print(f"no .pyc at all (compiled from source), CPU, median of {k}:")
            print(f"  baseline: import boto3                {ms(b)} CPU")
            for fn in ("EmailIntakeFunction", "ChatWebhookFunction"):
                path, init, _ = INIT[fn]
                e = dict(function_env(fn), PYTHONDONTWRITEBYTECODE="1")
                runs = sample(_HANDLER.format(path=str(ROOT / path), init=init, extra="pass"), e, k, src_args)
                t = stats([r[3] + r[4] for r in runs])[0]
                print(f"  {fn:20s} import + init          {ms(t)} CPU  {t / b:4.2f}x import boto3")

    if args.instructions:
        if shutil.which("valgrind"):
            instruction_table()
        else:
            print("--instructions: valgrind is not installed; skipped")

    for fn in ("EmailIntakeFunction", "ChatWebhookFunction"):
        path, init, _ = INIT[fn]
        top = importtime(
            _HANDLER.format(path=str(ROOT / path), init=init, extra="pass"), function_env(fn)
        )
        total = sum(v for v, _ in top)
        shown = ", ".join(f"{k} {v:.0f}" for v, k in top[:8])
        print(f"-X importtime {fn} (self ms by top-level package, {total:.0f} ms in all): {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
