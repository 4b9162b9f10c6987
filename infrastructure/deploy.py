"""`make deploy STAGE=prod`: the whole product into one CloudFormation stack, then the SPA.

    .venv/bin/python infrastructure/deploy.py --stage prod [--stack mission-control]

Steps (each says what it does as it goes):
1. AWS credentials and a region, or stop at once saying what to configure;
2. the stack parameters from the environment (``DOMAIN_NAME``, ``CERTIFICATE_ARN``,
   ``AUTH_DOMAIN_PREFIX``, optionally ``ALERT_EMAIL``, the IdP settings: see ``PARAMETERS``),
   or stop naming the missing ones;
3. the merge template regenerated, `chalice package` with it, the zip pruned
   (infrastructure/prune_package.py);
4. what `aws cloudformation package` does: code and template uploaded to an artifacts bucket
   (created once per account and region), ``CodeUri`` rewritten to it;
5. what `aws cloudformation deploy` does: a change set, created and executed, waited for;
6. the built SPA (static-site/dist) uploaded to the stack's bucket: hashed assets cached a year,
   immutable; index.html and config.json no-cache; config.json written from the stack outputs;
7. a CloudFront invalidation of the two no-cache files.

``AWS_ENDPOINT_URL`` (boto3's own setting) points every client elsewhere: the tests run this
against moto's server.
"""
from __future__ import annotations

import argparse
import json
import mimetypes
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "infrastructure"))

#: stack parameter -> environment variable (required when the parameter has no default)
PARAMETERS = {
    "DomainName": "DOMAIN_NAME", "CertificateArn": "CERTIFICATE_ARN", "AuthDomainPrefix": "AUTH_DOMAIN_PREFIX",
    "AlertEmail": "ALERT_EMAIL", "GoogleClientId": "GOOGLE_CLIENT_ID", "GoogleClientSecret": "GOOGLE_CLIENT_SECRET",
    "OidcIssuerUrl": "OIDC_ISSUER_URL", "OidcClientId": "OIDC_CLIENT_ID", "OidcClientSecret": "OIDC_CLIENT_SECRET",
    "SamlMetadataUrl": "SAML_METADATA_URL", "MetricsStreamMode": "METRICS_STREAM_MODE",
    "MetricsStreamShards": "METRICS_STREAM_SHARDS",
}
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"


class DeployError(Exception):
    """Stops the deploy; the message says what to do."""


def say(message: str) -> None:
    print(f"deploy: {message}", flush=True)


def aws_session():
    import boto3
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
    if session.get_credentials() is None:
        raise DeployError("no AWS credentials found. Configure them first: `aws configure` (or "
                          "`aws sso login --profile NAME` and AWS_PROFILE=NAME), or set "
                          "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; see README.md, Deploy to AWS.")
    if not session.region_name:
        raise DeployError("no AWS region: set AWS_REGION or AWS_DEFAULT_REGION (e.g. us-east-1), or `aws configure set region`.")
    return session


def stack_parameters(template: dict, env: dict) -> list[dict]:
    declared = template["Parameters"]
    missing = [f"{var} (stack parameter {name}: {declared[name]['Description']})"
               for name, var in PARAMETERS.items() if "Default" not in declared[name] and not env.get(var)]
    if missing:
        raise DeployError("missing deploy settings:\n  " + "\n  ".join(missing))
    return [{"ParameterKey": name, "ParameterValue": str(env[var])}
            for name, var in PARAMETERS.items() if env.get(var)]


def package(stage: str, out: Path, region: str) -> Path:
    import build_template
    import prune_package
    say("writing infrastructure/merge-template.json from the code's registries")
    merge = ROOT / "infrastructure" / "merge-template.json"
    merge.write_text(json.dumps(build_template.template(), indent=2) + "\n")
    say(f"chalice package --stage {stage}")
    subprocess.run([str(Path(sys.executable).with_name("chalice")), "package", "--stage", stage,
                    "--merge-template", str(merge), str(out)], cwd=ROOT, check=True,
                   env={**os.environ, "AWS_DEFAULT_REGION": region})
    say(f"left out of the Lambda package: {prune_package.prune(str(out / 'deployment.zip'))}")
    return out / "sam.json"


def artifacts_bucket(session, stack: str) -> str:
    account = session.client("sts").get_caller_identity()["Account"]
    name = f"{stack}-artifacts-{account}-{session.region_name}".lower()[:63]
    s3 = session.client("s3")
    try:
        s3.head_bucket(Bucket=name)
    except s3.exceptions.ClientError:
        say(f"creating the artifacts bucket {name}")
        extra = ({} if session.region_name == "us-east-1"
                 else {"CreateBucketConfiguration": {"LocationConstraint": session.region_name}})
        s3.create_bucket(Bucket=name, **extra)
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")})
    return name


def upload_code(session, bucket: str, template_path: Path) -> str:
    """`aws cloudformation package`: code to S3, CodeUri rewritten; returns the template's URL."""
    s3 = session.client("s3")
    template = json.loads(template_path.read_text())
    stamp = time.strftime("%Y%m%dT%H%M%S")
    code_key = f"code/{stamp}-deployment.zip"
    s3.upload_file(str(template_path.with_name("deployment.zip")), bucket, code_key)
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{code_key}"
        elif resource.get("Type") == "AWS::Lambda::Function":  # a template already translated from SAM
            resource["Properties"]["Code"] = {"S3Bucket": bucket, "S3Key": code_key}
    template_key = f"templates/{stamp}-sam.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=json.dumps(template).encode())
    return f"https://{bucket}.s3.amazonaws.com/{template_key}"


def deploy_stack(session, stack: str, template_url: str, parameters: list[dict]) -> dict[str, str]:
    """`aws cloudformation deploy`: one change set, executed; returns the stack's outputs."""
    cfn = session.client("cloudformation")
    try:
        cfn.describe_stacks(StackName=stack)
        kind = "UPDATE"
    except cfn.exceptions.ClientError:
        kind = "CREATE"
    name = f"deploy-{time.strftime('%Y%m%d%H%M%S')}"
    say(f"change set {name} ({kind}) for stack {stack}")
    cfn.create_change_set(StackName=stack, ChangeSetName=name, ChangeSetType=kind, TemplateURL=template_url,
                          Parameters=parameters,
                          Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    try:
        cfn.get_waiter("change_set_create_complete").wait(StackName=stack, ChangeSetName=name,
                                                          WaiterConfig={"Delay": 5})
    except Exception as exc:  # noqa: BLE001 - "no changes" is a finished deploy, not a failure
        reason = cfn.describe_change_set(StackName=stack, ChangeSetName=name).get("StatusReason", "")
        if "didn't contain changes" not in reason and "No updates" not in reason:
            raise DeployError(f"the change set failed: {reason or exc}") from exc
        say("no changes to the stack")
    else:
        cfn.execute_change_set(StackName=stack, ChangeSetName=name)
        waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
        cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": 10, "MaxAttempts": 360})
    [described] = cfn.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def spa_config(outputs: dict[str, str]) -> dict:
    """The SPA's config.json: the API on this origin (/api/*), sign-in through the stack's
    Cognito hosted UI - written by the same function the local server uses."""
    from chalicelib.local.static_site import spa_auth_config
    stack_env = {"AUTH_CLIENT_ID": outputs["UserPoolClientId"], "AUTH_ISSUER": outputs["AuthIssuer"],
                 "SPA_AUTH_DOMAIN": outputs["AuthDomain"]}
    saved = {name: os.environ.get(name) for name in stack_env}
    os.environ.update(stack_env)  # spa_auth_config reads the environment, as the local server sets it
    try:
        config: dict = {"apiBaseUrl": "", "auth": spa_auth_config()}
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    if outputs.get("WebsocketConnectEndpointURL"):
        config["websocketUrl"] = outputs["WebsocketConnectEndpointURL"]
    return config


def upload_site(session, bucket: str, dist: Path, config: dict) -> int:
    s3 = session.client("s3")
    count = 0
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        if key == "config.json":
            continue  # written from the outputs below
        cache = IMMUTABLE if key.startswith("assets/") else NO_CACHE
        s3.upload_file(str(path), bucket, key, ExtraArgs={
            "ContentType": mimetypes.guess_type(key)[0] or "application/octet-stream", "CacheControl": cache})
        count += 1
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config).encode(),
                  ContentType="application/json", CacheControl=NO_CACHE)
    return count + 1


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--stage", default="prod")
    args.add_argument("--stack", default=os.environ.get("STACK_NAME", "mission-control"),
                      help="at most 30 characters: function names (and their log permissions) carry it")
    args.add_argument("--packaged", help="a `chalice package` output directory to deploy as is")
    args.add_argument("--check", action="store_true", help="only check credentials and settings")
    opts = args.parse_args(argv)
    try:
        if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9-]{0,29}", opts.stack):
            raise DeployError(f"STACK_NAME={opts.stack!r}: letters, digits and hyphens, at most 30 characters")
        session = aws_session()
        import build_template
        parameters = stack_parameters(build_template.template(), dict(os.environ))
        if opts.check:
            return 0
        dist = ROOT / "static-site" / "dist"
        if not (dist / "index.html").exists():
            raise DeployError("static-site/dist is not built: run `make spa` (make deploy does)")
        with tempfile.TemporaryDirectory() as tmp:
            template_path = (Path(opts.packaged) / "sam.json" if opts.packaged
                             else package(opts.stage, Path(tmp) / "out", session.region_name))
            bucket = artifacts_bucket(session, opts.stack)
            outputs = deploy_stack(session, opts.stack, upload_code(session, bucket, template_path), parameters)
        config = spa_config(outputs)
        files = upload_site(session, outputs["SiteBucketName"], dist, config)
        say(f"uploaded {files} SPA files to s3://{outputs['SiteBucketName']}")
        session.client("cloudfront").create_invalidation(
            DistributionId=outputs["DistributionId"], InvalidationBatch={
                "Paths": {"Quantity": 2, "Items": ["/index.html", "/config.json"]},
                "CallerReference": str(time.time())})
        say(f"done: {outputs.get('DashboardUrl')} (DNS: {outputs.get('DistributionDomain')})")
        return 0
    except DeployError as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
