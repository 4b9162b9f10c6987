"""Where the CI console's secrets come from: the environment or a 0600 file in the data
directory locally (a file others can read is refused), Secrets Manager on Lambda (moto: AWS's
service has no local server here), read once per cold start."""
from __future__ import annotations

import os

import pytest

from chalicelib.ci import secrets


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    from chalicelib.config import auth_settings
    monkeypatch.delenv("GITHUB_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    auth_settings.cache_clear()
    secrets.forget_cached()
    yield tmp_path
    auth_settings.cache_clear()
    secrets.forget_cached()


def test_the_environment_gives_the_webhook_secret(monkeypatch):
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "from-env")
    assert secrets.webhook_secret() == b"from-env"


def test_a_0600_file_in_the_data_directory_gives_it(fresh):
    secrets.write_local_secret(fresh / secrets.WEBHOOK_SECRET_FILE, "from-file\n")
    assert oct(os.stat(fresh / secrets.WEBHOOK_SECRET_FILE).st_mode & 0o777) == "0o600"
    assert secrets.webhook_secret() == b"from-file"


def test_a_file_others_can_read_is_refused_without_saying_the_secret(fresh):
    path = fresh / secrets.WEBHOOK_SECRET_FILE
    path.write_text("leaky-secret")
    path.chmod(0o644)
    with pytest.raises(secrets.SecretUnavailable) as refused:
        secrets.webhook_secret()
    assert "chmod 600" in str(refused.value) and "leaky-secret" not in str(refused.value)


def test_no_secret_at_all_is_said_plainly(fresh):
    with pytest.raises(secrets.SecretUnavailable, match="no secret"):
        secrets.webhook_secret()


def test_on_lambda_secrets_manager_is_read_once_per_cold_start(monkeypatch):
    from moto import mock_aws
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "mission-control-prod")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "never-used-on-lambda")
    monkeypatch.setenv("SECRETS_PREFIX", "mc-prod/")  # the stack's: each secret is <stack>/<name>
    with mock_aws():
        import boto3
        client = boto3.client("secretsmanager", region_name="eu-west-2")
        client.create_secret(Name="mc-prod/github-webhook-secret", SecretString="from-aws")
        client.create_secret(Name="mc-prod/github-app-private-key", SecretString="-----BEGIN KEY")
        assert secrets.webhook_secret() == b"from-aws"
        client.put_secret_value(SecretId="mc-prod/github-webhook-secret", SecretString="rotated")
        assert secrets.webhook_secret() == b"from-aws"  # cached for this cold start
        assert secrets.app_private_key() == b"-----BEGIN KEY"
        secrets.forget_cached()  # the next cold start
        assert secrets.webhook_secret() == b"rotated"


def test_a_webhook_without_a_configured_secret_is_401_not_500(anonymous_api, fresh):
    reply = anonymous_api.http.post("/webhooks/github", body=b"{}", headers={
        "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": "d",
        "x-hub-signature-256": "sha256=" + "0" * 64})
    assert reply.status_code == 401


def test_a_stage_deployed_with_chalice_deploy_alone_may_read_its_secrets_and_no_others():
    # `chalice deploy` gives every function .chalice/policy-prod.json's one role; without the
    # stack's SECRETS_PREFIX the code reads mission-control/<name> (ARNs end in a random suffix).
    import fnmatch
    import json
    from pathlib import Path
    policy = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "policy-prod.json").read_text())
    granted = [s["Resource"] for s in policy["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]]
    arn = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:mission-control/{}-AbC123"
    for name in secrets.SECRET_NAMES.values():
        assert any(fnmatch.fnmatchcase(arn.format(name), g) for g in granted), name
    assert not any(fnmatch.fnmatchcase(arn.replace("mission-control/", "other-app/").format("x"), g) for g in granted)
