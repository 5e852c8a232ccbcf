"""Offline SAM transform of template.yaml (no credentials): prints CloudFormation JSON.

cfn-lint alone does not expand AWS::Serverless resources; linting the expanded template
catches what SAM generates (roles, permissions, event invoke configs).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class _OfflinePolicyLoader:
    """SAM asks IAM for managed-policy ARNs; offline we build them from the name."""

    def load(self) -> dict[str, str]:
        return {}


def expand(template_path: Path) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "ap-southeast-1")  # SAM needs a region, not credentials
    template = yaml_parse(template_path.read_text())
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        for field in ("CodeUri", "ContentUri"):
            # `sam package` uploads local folders and writes their S3 URIs; do the same on paper.
            if isinstance(props.get(field), str) and not props[field].startswith("s3://"):
                props[field] = f"s3://deskintake-artifacts/{props[field].strip('/')}.zip"
    parameters = {"AWS::Region": "ap-southeast-1", "AWS::AccountId": "123456789012",
                  "AWS::Partition": "aws", "AWS::StackName": "deskintake"}
    result: dict[str, Any] = transform(template, parameters, _OfflinePolicyLoader()  # type: ignore[arg-type]
)
    return result


def main() -> int:
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
    print(json.dumps(expand(source), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
