"""Leaves out of a `chalice package` deployment.zip what Lambda never runs, and reports sizes.

    .venv/bin/python infrastructure/prune_package.py out/deployment.zip

Chalice zips all of chalicelib/. On Lambda the app never imports the one-machine runtime
(chalicelib/local: server, worker, SNS emulation, demo data, the dev OIDC issuer) nor the
missionctl CLI (chalicelib/cli): app.py imports chalicelib.local only when DEV_ISSUER or SPA_DIR
is set, and the prod stage refuses DEV_ISSUER. The zip is rewritten in place.
"""
from __future__ import annotations

import os
import sys
import zipfile

#: paths inside the zip that Lambda never runs
LEFT_OUT = ("chalicelib/local/", "chalicelib/cli/")


def prune(path: str) -> dict:
    before = os.path.getsize(path)
    kept_path = path + ".pruned"
    dropped = 0
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(kept_path, "w", zipfile.ZIP_DEFLATED) as kept:
        for info in source.infolist():
            if info.filename.startswith(LEFT_OUT):
                dropped += 1
                continue
            kept.writestr(info, source.read(info.filename))
    os.replace(kept_path, path)
    return {"files_left_out": dropped, "bytes_before": before, "bytes_after": os.path.getsize(path)}


if __name__ == "__main__":
    print(prune(sys.argv[1]))
