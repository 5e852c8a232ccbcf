"""Reads template.yaml so the local stack builds the same resources the cloud gets.

Local names are the logical ids (S3 buckets lower-cased), and each function's environment is
the template's Globals plus its own variables with `!Ref` / `!GetAtt` resolved to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "ap-southeast-1"


@dataclass
class HttpRoute:
    function: str
    method: str
    path: str


@dataclass
class LocalTemplate:
    path: Path
    doc: dict[str, Any]
    parameter_overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, **overrides: str) -> LocalTemplate:
        from samtranslator.yaml_helper import yaml_parse

        return cls(path=path, doc=yaml_parse(path.read_text(encoding="utf-8")),
                   parameter_overrides=dict(overrides))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.doc.get("Resources") or {})

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r.get("Type") == kind}

    def local_name(self, logical_id: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None:
            parameters = self.doc.get("Parameters") or {}
            if logical_id in parameters:
                return str(self.parameter_overrides.get(logical_id, parameters[logical_id].get("Default", "")))
            return {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
                    "AWS::StackName": "deskintake-local"}.get(logical_id, logical_id)
        if resource.get("Type") == "AWS::S3::Bucket":
            return logical_id.lower()
        if resource.get("Type") == "AWS::SQS::Queue":
            return f"http://127.0.0.1/{ACCOUNT}/{logical_id}"
        return logical_id

    def resolve(self, value: Any) -> Any:
        """Evaluate the intrinsics the environment uses: Ref, GetAtt, Sub, Join."""
        if isinstance(value, dict) and len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return self.local_name(str(arg))
            if fn == "Fn::GetAtt":
                target, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self._arn(str(target), str(attr))
            if fn == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                import re

                def sub(match: re.Match[str]) -> str:
                    ref = match.group(1)
                    if "." in ref:
                        return str(self._arn(*ref.split(".", 1)))
                    return str(self.local_name(ref))

                return re.sub(r"\$\{([^}]+)\}", sub, text)
            if fn == "Fn::Join":
                sep, parts = arg
                return str(sep).join(str(self.resolve(p)) for p in parts)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _arn(self, logical_id: str, attr: str) -> str:
        kind = (self.resources.get(logical_id) or {}).get("Type", "")
        name = self.local_name(logical_id)
        service = {"AWS::DynamoDB::Table": f"dynamodb:{REGION}:{ACCOUNT}:table/{name}",
                   "AWS::SQS::Queue": f"sqs:{REGION}:{ACCOUNT}:{logical_id}",
                   "AWS::S3::Bucket": f"s3:::{name}",
                   "AWS::Events::EventBus": f"events:{REGION}:{ACCOUNT}:event-bus/{name}",
                   }.get(kind, f"lambda:{REGION}:{ACCOUNT}:function:{logical_id}")
        return f"arn:aws:{service}" if attr in {"Arn", "QueueArn"} else name

    def function_env(self, logical_id: str | None = None) -> dict[str, str]:
        """Globals' variables, then the function's own (all functions merged when None)."""
        env: dict[str, str] = {}
        globals_vars = (((self.doc.get("Globals") or {}).get("Function") or {})
                        .get("Environment") or {}).get("Variables") or {}
        for key, value in globals_vars.items():
            env[key] = str(self.resolve(value))
        functions = self.of_type("AWS::Serverless::Function")
        names = [logical_id] if logical_id else sorted(functions)
        for name in names:
            variables = ((functions[name].get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
            for key, value in variables.items():
                env.setdefault(key, str(self.resolve(value)))
        return env

    def handler_path(self, logical_id: str) -> tuple[Path, str]:
        props = self.of_type("AWS::Serverless::Function")[logical_id].get("Properties") or {}
        module, _, func = str(props.get("Handler", "handler.lambda_handler")).rpartition(".")
        return self.path.parent / str(props["CodeUri"]) / f"{module.replace('.', '/')}.py", func

    def http_routes(self) -> list[HttpRoute]:
        routes = []
        for name, resource in self.of_type("AWS::Serverless::Function").items():
            for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
                if event.get("Type") == "HttpApi":
                    props = event.get("Properties") or {}
                    routes.append(HttpRoute(function=name, method=str(props.get("Method", "ANY")).upper(),
                                            path=str(props.get("Path", "/"))))
        return routes

    def receipt_recipients(self) -> list[str]:
        recipients: list[str] = []
        for rule in self.of_type("AWS::SES::ReceiptRule").values():
            listed = ((rule.get("Properties") or {}).get("Rule") or {}).get("Recipients") or []
            for value in listed if isinstance(listed, list) else [listed]:
                resolved = self.resolve(value)
                if not isinstance(resolved, list):  # a CommaDelimitedList parameter
                    resolved = str(resolved).split(",")
                recipients.extend(str(r).strip() for r in resolved if str(r).strip())
        return recipients

    def email_function(self) -> str | None:
        for rule in self.of_type("AWS::SES::ReceiptRule").values():
            for action in ((rule.get("Properties") or {}).get("Rule") or {}).get("Actions") or []:
                if "LambdaAction" in action:
                    arn = action["LambdaAction"]["FunctionArn"]
                    target = arn.get("Fn::GetAtt") if isinstance(arn, dict) else None
                    if target:
                        return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
        return None

    def raw_prefix(self) -> str:
        for rule in self.of_type("AWS::SES::ReceiptRule").values():
            for action in ((rule.get("Properties") or {}).get("Rule") or {}).get("Actions") or []:
                if "S3Action" in action:
                    return str(action["S3Action"].get("ObjectKeyPrefix", ""))
        return ""
