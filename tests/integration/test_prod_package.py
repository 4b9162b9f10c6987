"""`chalice package` for prod, as CI and `make deploy` run it: the package leaves out what Lambda
never runs, the template lints clean raw and after SAM translation, and the deploy script
takes it through CloudFormation and S3 - on moto's server, as far as moto goes."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infrastructure"))
CFN_PYTHON = ROOT / ".venv-cfn" / "bin" / "python"
#: test values of the stack parameters
DEPLOY_ENV = {"DOMAIN_NAME": "dashboard.example.com", "AUTH_DOMAIN_PREFIX": "mc-ci",
              "CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/0000-ci",
              "ALERT_EMAIL": "ops@example.com"}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    import prune_package
    out = tmp_path_factory.mktemp("package") / "out"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run([str(Path(sys.executable).with_name("chalice")), "package", "--stage", "prod",
                    "--merge-template", "infrastructure/merge-template.json", str(out)],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    pruned = prune_package.prune(str(out / "deployment.zip"))
    return out, pruned


def test_the_package_leaves_out_the_local_runtime_the_cli_and_the_dev_issuer(packaged):
    import zipfile
    out, pruned = packaged
    names = zipfile.ZipFile(out / "deployment.zip").namelist()
    assert pruned["files_left_out"] > 0
    assert not [n for n in names if n.startswith(("chalicelib/local/", "chalicelib/cli/"))]
    assert "app.py" in names and "chalicelib/alerts/handlers.py" in names


def test_the_packaged_app_imports_as_prod_without_the_local_runtime(packaged):
    from benchmarks.package_import import extract_app, import_once
    out, _ = packaged
    code = out.parent / "code"
    extract_app(str(out / "deployment.zip"), str(code))
    loaded = import_once(str(code))["modules"]
    assert "chalicelib.alerts.handlers" in loaded
    assert not [m for m in loaded if m.startswith(("chalicelib.local", "chalicelib.cli"))]


def lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CFN_PYTHON), "infrastructure/lint_template.py", str(path)], cwd=ROOT,
                          capture_output=True, text=True)


def test_the_prod_template_lints_clean_raw_and_after_sam_translation(packaged):
    out, _ = packaged
    result = lint(out / "sam.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problem(s)" in result.stdout


def test_the_linter_does_refuse_a_broken_template(packaged, tmp_path):
    out, _ = packaged
    template = json.loads((out / "sam.json").read_text())
    template["Resources"]["TableEvents"]["Properties"]["BillingMode"] = "FREE"
    (tmp_path / "sam.json").write_text(json.dumps(template))
    result = lint(tmp_path / "sam.json")
    assert result.returncode == 1 and "E3030:'FREE' is not one of" in result.stdout


# -- make deploy against moto's server ----------------------------------------------------------
#: what moto's CloudFormation cannot create from this template: API Gateway from a Swagger body
#: ("The REST API doesn't contain any methods"). Types moto does not know (Cognito, CloudFront,
#: alarms) it records without creating; those are checked by the template tests instead.
MOTO_CANNOT = ("AWS::ApiGateway::",)


@pytest.fixture(scope="module")
def moto_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait()


@pytest.fixture
def moto_aws(moto_server, monkeypatch):
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")]:
        monkeypatch.delenv(name)  # a service's own endpoint (DynamoDB Local) would win over moto's
    for name, value in {"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "ci", "AWS_SECRET_ACCESS_KEY": "ci",
                        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", **DEPLOY_ENV}.items():
        monkeypatch.setenv(name, value)
    import deploy
    return deploy


def translated_for_moto(packaged, tmp_path) -> Path:
    out, _ = packaged
    script = ("import json, sys; sys.path.insert(0, 'infrastructure'); import lint_template as l; "
              f"t = l.translate(l.with_s3_code(json.load(open({str(out / 'sam.json')!r})))); print(json.dumps(t))")
    translated = json.loads(subprocess.run([str(CFN_PYTHON), "-c", script], cwd=ROOT, check=True, capture_output=True,
                                           text=True, env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}).stdout)
    dropped = {k for k, r in translated["Resources"].items() if r["Type"].startswith(MOTO_CANNOT)}

    def without_dropped(value):
        """References to a dropped resource become a plain string naming it."""
        if isinstance(value, dict):
            target = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
            text = value.get("Fn::Sub") if isinstance(value.get("Fn::Sub"), str) else ""
            if target in dropped or any("${" + d in text for d in dropped):
                return "dropped-for-moto"
            return {k: without_dropped(v) for k, v in value.items()
                    if not (k == "DependsOn" and set(v if isinstance(v, list) else [v]) & dropped)}
        if isinstance(value, list):
            return [without_dropped(v) for v in value]
        return value
    translated = without_dropped({**translated, "Resources": {
        k: r for k, r in translated["Resources"].items() if k not in dropped}})
    (tmp_path / "sam.json").write_text(json.dumps(translated))
    (tmp_path / "deployment.zip").write_bytes((out / "deployment.zip").read_bytes())
    return tmp_path / "sam.json"


def test_deploy_stops_at_once_without_credentials_saying_what_to_configure(tmp_path, monkeypatch, capsys):
    import deploy
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert deploy.main(["--check"]) == 2
    assert "no AWS credentials" in capsys.readouterr().err


def test_deploy_names_each_missing_setting_and_its_parameter(moto_aws, monkeypatch, capsys):
    monkeypatch.delenv("CERTIFICATE_ARN")
    monkeypatch.delenv("AUTH_DOMAIN_PREFIX")
    assert moto_aws.main(["--check"]) == 2
    err = capsys.readouterr().err
    assert "CERTIFICATE_ARN (stack parameter CertificateArn" in err and "AUTH_DOMAIN_PREFIX" in err


def test_make_deploy_creates_the_stack_and_uploads_the_spa_on_moto(moto_aws, packaged, tmp_path):
    import boto3
    template = translated_for_moto(packaged, tmp_path)
    session = moto_aws.aws_session()
    parameters = moto_aws.stack_parameters(json.loads(template.read_text()), dict(os.environ))
    bucket = moto_aws.artifacts_bucket(session, "mc-ci")
    moto_aws.deploy_stack(session, "mc-ci", moto_aws.upload_code(session, bucket, template), parameters)
    cfn = boto3.client("cloudformation")
    assert cfn.describe_stacks(StackName="mc-ci")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    created = {r["LogicalResourceId"]: r["PhysicalResourceId"]
               for r in cfn.list_stack_resources(StackName="mc-ci")["StackResourceSummaries"]}
    # tables named from the stack, with the metrics table's stream read by the insights consumer
    tables = set(boto3.client("dynamodb").list_tables()["TableNames"])
    from chalicelib.storage.tables import TABLES
    assert {f"mc-ci-{name}" for name in TABLES} <= tables
    assert boto3.client("dynamodb").describe_table(TableName="mc-ci-metrics")["Table"]["StreamSpecification"]
    assert boto3.client("kinesis").describe_stream_summary(StreamName="mc-ci-metrics")
    # the function code came from the artifacts bucket; each function has its own role
    functions = boto3.client("lambda").list_functions()["Functions"]
    assert {f["Role"] for f in functions} and len({f["Role"] for f in functions}) == len(functions)
    # the SPA into the stack's bucket: assets immutable, the no-cache pair, config.json from outputs
    outputs = {"UserPoolClientId": "client-ci", "AuthDomain": "https://mc-ci.auth.us-east-1.amazoncognito.com",
               "AuthIssuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_ci"}
    config = moto_aws.spa_config(outputs)
    site = created["SiteBucket"]
    dist = ROOT / "static-site" / "dist"
    count = moto_aws.upload_site(session, site, dist, config)
    s3 = boto3.client("s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=site)["Contents"]}
    assert count == len(keys) and {"index.html", "config.json"} <= keys
    asset = next(k for k in keys if k.startswith("assets/"))
    assert s3.head_object(Bucket=site, Key=asset)["CacheControl"] == moto_aws.IMMUTABLE
    assert s3.head_object(Bucket=site, Key="index.html")["CacheControl"] == "no-cache"
    written = json.loads(s3.get_object(Bucket=site, Key="config.json")["Body"].read())
    assert written["apiBaseUrl"] == ""  # the API is on the same origin, under /api/*
    assert written["auth"]["clientId"] == "client-ci"
    assert written["auth"]["authorizeUrl"] == "https://mc-ci.auth.us-east-1.amazoncognito.com/oauth2/authorize"


def test_make_deploy_without_credentials_fails_before_building_anything(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run(["make", "--no-print-directory", "deploy", "STAGE=prod"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "no AWS credentials found. Configure them first" in result.stderr
    assert "chalice package" not in result.stdout and "npm" not in result.stdout


def test_the_packaged_functions_carry_the_merge_templates_stream_settings_roles_and_environment(packaged):
    out, _ = packaged
    resources = json.loads((out / "sam.json").read_text())["Resources"]
    functions = {k: r for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(functions) >= 9
    for logical, function in functions.items():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"], logical
        assert props["Environment"]["Variables"]["AUTH_CLIENT_ID"] == {"Ref": "UserPoolClient"}, logical
        role = resources[props["Role"]["Fn::GetAtt"][0]]
        assert [p["PolicyName"] for p in role["Properties"]["Policies"]] == [logical + "Policy"], logical
        for event in props.get("Events", {}).values():
            if event["Type"] in ("Kinesis", "DynamoDB"):
                assert len(event["Properties"]["Stream"]) == 1  # one intrinsic, not Chalice's and ours
                assert event["Properties"]["BisectBatchOnFunctionError"] is True
            if event["Type"] == "SNS":
                assert event["Properties"]["Topic"] == {"Fn::Sub": "${AlertsTopic}"}
    assert resources["RestAPI"]["Properties"]["EndpointConfiguration"] == "REGIONAL"
    assert all(r["Properties"]["RetentionInDays"] == 30 for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup")
