"""The Lambda package's cold import: `import app` from the pruned deployment.zip's own app
code (app.py, chalicelib, chalice), as the prod stage configures it. Never run as a test.

    .venv/bin/python -m benchmarks.package_import out/deployment.zip

Third-party packages come from this machine's virtualenv (same pinned versions): the zip
carries Linux arm64 wheels, which an x86 machine cannot load. Each run is a fresh interpreter.
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile

PROD_ENV = {"STAGE": "prod", "STORE": "dynamodb", "TABLE_PREFIX": "mc-", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "mc-APIHandler-x", "AUTH_CLIENT_ID": "c1", "AUTH_TOKEN_USE": "access",
            "AUTH_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
            "POWERTOOLS_SERVICE_NAME": "mission-control"}
PROBE = ("import sys, time, json; t = time.perf_counter(); import app; "
         "print(json.dumps({'ms': (time.perf_counter() - t) * 1000, 'modules': sorted(sys.modules)}))")


def extract_app(zip_path: str, into: str) -> None:
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(into, [n for n in z.namelist() if n == "app.py" or n.startswith(("chalicelib/", "chalice/"))])


def import_once(code_dir: str) -> dict:
    env = {**os.environ, **PROD_ENV, "PYTHONPATH": code_dir, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", PROBE], cwd=code_dir, env=env,
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    # -X importtime: "import time: self [us] | cumulative | name"; top-level packages by cumulative
    top = {}
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+(\S+)$", line)
        if m and "." not in m.group(2) and m.group(2) != "app":
            top[m.group(2)] = max(top.get(m.group(2), 0), int(m.group(1)) / 1000)
    result["top"] = dict(sorted(top.items(), key=lambda kv: -kv[1])[:8])
    return result


def measure(zip_path: str, runs: int = 5) -> dict:
    with tempfile.TemporaryDirectory() as code_dir:
        extract_app(zip_path, code_dir)
        results = [import_once(code_dir) for _ in range(runs)]
    modules = results[0]["modules"]
    return {"median_ms": round(statistics.median(r["ms"] for r in results), 1),
            "runs": runs, "modules_loaded": len(modules),
            "local_or_cli_loaded": [m for m in modules if m.startswith(("chalicelib.local", "chalicelib.cli"))],
            "heaviest_ms": {k: round(v, 1) for k, v in results[-1]["top"].items()},
            "zip_bytes": os.path.getsize(zip_path)}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1]), indent=2))
