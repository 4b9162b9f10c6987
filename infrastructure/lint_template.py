"""Lints a `chalice package` output with cfn-lint, raw and after SAM translation.

Runs in the linters' own virtualenv (.venv-cfn, requirements-cfn.txt):

    .venv-cfn/bin/python infrastructure/lint_template.py out/sam.json

SAM translation needs code in S3, as `aws cloudformation package` writes it: the local
``CodeUri`` is replaced by an s3:// URI first (nothing is uploaded). Managed policies are not
used by the template (every role is inline), so no IAM lookup is needed. Exit status 1 on any
cfn-lint error or warning that infrastructure/cfn-lint-ignored.json does not explain.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def with_s3_code(template: dict) -> dict:
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://mission-control-artifacts/deployment.zip"
    return template


def translate(template: dict) -> dict:
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self):
            return {}
    return transform(template, {}, NoManagedPolicies(), Parser())


def lint(path: Path, ignored: list[str]) -> list[str]:
    args = [str(Path(sys.executable).with_name("cfn-lint")), "--format", "parseable"]
    if ignored:
        args += ["--ignore-checks", *ignored]
    out = subprocess.run([*args, "--", str(path)], capture_output=True, text=True)
    problems = [line for line in out.stdout.splitlines() if line.strip()]
    if out.returncode and not problems:  # cfn-lint itself failed: that is no clean bill
        raise RuntimeError(f"cfn-lint exited {out.returncode}: {out.stderr.strip()[-2000:]}")
    return problems


def main(path: str) -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator's pseudo-parameters
    ignored = json.loads((HERE / "cfn-lint-ignored.json").read_text())
    template = with_s3_code(json.loads(Path(path).read_text()))
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "sam.json"
        raw.write_text(json.dumps(template))
        problems += [f"raw: {p}" for p in lint(raw, list(ignored))]
        translated = Path(tmp) / "translated.json"
        translated.write_text(json.dumps(translate(template)))
        problems += [f"translated: {p}" for p in lint(translated, list(ignored))]
    for problem in problems:
        print(problem)
    print(f"cfn-lint: {len(problems)} problem(s), raw and after SAM translation")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
