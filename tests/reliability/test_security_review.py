"""Security review, as tests: least-privilege IAM, encryption at rest, no secrets in the repo."""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT

# Services whose actions read or write customer data (or its keys and secrets).
DATA_SERVICES = {"dynamodb", "s3", "sqs", "sns", "ses", "ssm", "kms", "secretsmanager", "events",
                 "scheduler", "lambda", "logs", "cognito-idp", "iam", "sts"}
# SES identities are named by address, and SendRawEmail's resource is every identity the
# message touches (From, and the recipients' identities in the sandbox): "*" plus a
# ses:FromAddress condition pins it to our support address, which is the narrowest AWS allows.
RESOURCE_STAR_OK = {"ses:sendrawemail", "ses:sendemail"}


def _template() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    return dict(yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8")))


def _statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement of the template: functions' inline policies, roles, managed policies."""
    for name, resource in _template()["Resources"].items():
        kind, props = resource["Type"], resource.get("Properties") or {}
        documents: list[Any] = []
        if kind == "AWS::Serverless::Function":
            policies = props.get("Policies") or []
            documents += [p for p in (policies if isinstance(policies, list) else [policies])
                          if isinstance(p, dict) and "Statement" in p]
        elif kind == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in props.get("Policies") or []]
        elif kind in {"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::S3::BucketPolicy",
                      "AWS::SQS::QueuePolicy"}:
            documents.append(props["PolicyDocument"])
        for document in documents:
            for statement in document["Statement"]:
                yield name, statement


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_template_has_policies_to_review() -> None:
    names = {name for name, _ in _statements()}
    assert {"EmailIntakeFunction", "ChatWebhookFunction", "FollowUpFunction",
            "FollowUpSchedulingPolicy"} <= names


def test_no_wildcard_actions_and_no_star_resources_on_data() -> None:
    problems = []
    for name, st in _statements():
        if st.get("Effect") != "Allow":
            continue  # a Deny with s3:* (insecure transport) is the safe kind of wildcard
        actions = [str(a).lower() for a in _list(st.get("Action", []))]
        if "NotAction" in st or "NotResource" in st:
            problems.append(f"{name}/{st.get('Sid')}: NotAction/NotResource in an Allow")
        for action in actions:
            service, _, verb = action.partition(":")
            if "*" in action and (service in DATA_SERVICES or action == "*"):
                problems.append(f"{name}/{st.get('Sid')}: wildcard action {action}")
        resources = _list(st.get("Resource", []))
        if "Principal" in st:
            continue  # resource policies: the principal check below covers them
        if "*" in resources:
            star_ok = set(actions) <= RESOURCE_STAR_OK and "ses:FromAddress" in str(st.get("Condition"))
            if not star_ok:
                problems.append(f"{name}/{st.get('Sid')}: Resource '*' on {actions}")
    assert problems == []


def test_resource_policies_allow_only_named_services_with_source_conditions() -> None:
    for name, st in _statements():
        if "Principal" not in st or st.get("Effect") != "Allow":
            continue
        principal = st["Principal"]
        assert principal != "*" and principal != {"AWS": "*"}, f"{name}: public Allow"
        assert st.get("Condition"), f"{name}/{st.get('Sid')}: service principal without a source condition"


def test_buckets_are_encrypted_private_and_https_only() -> None:
    resources = _template()["Resources"]
    buckets = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    assert buckets
    policies = {str(r["Properties"]["Bucket"]): r["Properties"]["PolicyDocument"]
                for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"}
    for name, props in buckets.items():
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, name
        block = props["PublicAccessBlockConfiguration"]
        assert all(block[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                               "RestrictPublicBuckets")), name
        policy = next((p for ref, p in policies.items() if name in ref), None)
        assert policy is not None, f"{name} has no bucket policy"
        assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in str(s.get("Condition"))
                   for s in policy["Statement"]), f"{name} allows plain HTTP"


def test_tables_and_queues_are_encrypted() -> None:
    resources = _template()["Resources"]
    tables = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    queues = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SQS::Queue"]
    assert tables and queues
    assert all(t["SSESpecification"]["SSEEnabled"] is True for t in tables)
    assert all(t["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] for t in tables)
    assert all(q.get("SqsManagedSseEnabled") is True or q.get("KmsMasterKeyId") for q in queues)


# ------------------------------------------------------------------ secrets in the repository

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"(?i)aws_?secret_?access_?key\s*[=:]\s*['\"]?([A-Za-z0-9/+=]{40})\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    "Telegram bot token": re.compile(r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b"),
    "Meta access token": re.compile(r"\bEAA[A-Za-z0-9]{100,}\b"),
}
# A quoted value assigned to a secret-looking name: flagged when it looks random.
ASSIGNED = re.compile(r"(?i)(secret|token|password|passwd|api_?key|private_?key)[\"']?\s*[:=]\s*[\"']"
                      r"([A-Za-z0-9+/_\-=]{24,})[\"']")
# Development defaults, documented as dev-only (local_secrets(), README): fine to keep.
DEV_ONLY = re.compile(r"^(dev-|test|local|example|dummy|fake|wa-|tg-|lc-)", re.IGNORECASE)
SKIP_SUFFIXES = {".eml", ".png", ".jpg", ".gz", ".zip", ".ico", ".woff2", ".pdf", ".jsonl", ".bin"}


def _entropy(text: str) -> float:
    counts = {c: text.count(c) for c in set(text)}
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _repo_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    return [f for f in out if not any(f.endswith(s) for s in SKIP_SUFFIXES)
            and not f.startswith(("data/", "test-output/", "build/", ".venv"))]


def find_secrets(text: str) -> list[str]:
    found = [kind for kind, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    for match in ASSIGNED.finditer(text):
        value = match.group(2)
        if not DEV_ONLY.match(value) and _entropy(value) > 4.0:
            found.append(f"high-entropy {match.group(1)}")
    return found


@pytest.mark.parametrize("sample,expected", [
    ('key = "-----BEGIN RSA PRIVATE KEY-----"', ["private key"]),
    ("AWS_ACCESS_KEY_ID=AKIAZ7Q3X4M2P9L1K8J5", ["AWS access key id"]),
    ('api_key = "q8Zr2LmT0vXy7Kp3Wn9Bc4Hd6Js1Fg5A"', ["high-entropy api_key"]),
    ('"DESKINTAKE_LIVECHAT_SECRET": "dev-livechat-secret"', []),
])
def test_the_secret_scanner_finds_what_it_should(sample: str, expected: list[str]) -> None:
    assert find_secrets(sample) == expected


def test_no_secrets_in_code_template_or_docs() -> None:
    hits = []
    for path in _repo_files():
        try:
            text = (ROOT / path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        if path == "tests/reliability/test_security_review.py":
            continue  # this file's samples
        hits += [f"{path}: {kind}" for kind in find_secrets(text)]
    assert hits == []
