"""Summarise pip-audit's JSON: fail on any known vulnerability, only report what could not be checked.

pip-audit asks PyPI's JSON API for each installed distribution's advisories. Where the network
reaches only a package mirror without that API, every distribution comes back "skipped": that is
reported loudly, but it is not a failure of the code under test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str) -> int:
    report = Path(path)
    if not report.exists():
        print(f"audit: pip-audit produced no report ({report}); see build/pip-audit.log - NOT AUDITED")
        return 0
    deps = json.loads(report.read_text())["dependencies"]
    vulnerable = [(d["name"], d["version"], v["id"], ",".join(v.get("fix_versions") or []) or "no fix")
                  for d in deps for v in d.get("vulns") or []]
    skipped = [d["name"] for d in deps if d.get("skip_reason")]
    audited = len(deps) - len(skipped)
    for name, version, vuln, fix in vulnerable:
        print(f"audit: VULNERABLE {name} {version}: {vuln} (fixed in {fix})")
    print(f"audit: {audited} of {len(deps)} distributions checked, {len(vulnerable)} known vulnerabilities")
    if skipped and not audited:
        print("audit: WARNING nothing could be checked: PyPI's vulnerability API is unreachable from here")
    elif skipped:
        print(f"audit: {len(skipped)} not on PyPI or unreachable: {', '.join(skipped[:10])}...")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
