"""The CI console's secrets: the webhook secret and the GitHub App's private key.

Locally each comes from the environment or from a file under the data directory that only its
owner may read (mode 0600: a file others can read is refused, not used). On AWS (a Lambda) each
comes from Secrets Manager, read once per cold start and cached; boto3 is imported only then.
Secrets never reach logs or responses.
"""
from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

#: The Secrets Manager secret names, the one place they are declared (the deploy template
#: creates ``<stack>/<name>`` for each and grants reading it): logical secret -> name.
SECRET_NAMES: dict[str, str] = {
    "github_webhook_secret": "github-webhook-secret",
    "github_app_private_key": "github-app-private-key",
}
#: the stack's secrets' common prefix (``<stack>/``, set by the template); without it
#: ``mission-control/``, for a stage deployed with ``chalice deploy`` alone
SECRETS_PREFIX_ENV = "SECRETS_PREFIX"
#: locally: the environment variable, then this file in the data directory
WEBHOOK_SECRET_ENV = "GITHUB_WEBHOOK_SECRET"
WEBHOOK_SECRET_FILE = "github-webhook-secret"
PRIVATE_KEY_FILE = "github-app-private-key.pem"


class SecretUnavailable(Exception):
    """The secret is not configured, or its file is readable by others; says which, never the value."""


def on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@functools.cache
def webhook_secret() -> bytes:
    """The webhook secret's bytes (HMAC key); cached for the life of the process."""
    if on_lambda():
        return _from_secrets_manager("github_webhook_secret").encode()
    value = os.environ.get(WEBHOOK_SECRET_ENV)
    if value:
        return value.encode()
    return _owner_only_file(_data_dir() / WEBHOOK_SECRET_FILE).strip()


@functools.cache
def app_private_key() -> bytes:
    """The GitHub App's private key (PEM bytes); cached for the life of the process."""
    if on_lambda():
        return _from_secrets_manager("github_app_private_key").encode()
    from .settings import ci_settings
    configured = ci_settings().GITHUB_APP_PRIVATE_KEY_FILE
    return _owner_only_file(Path(configured) if configured else _data_dir() / PRIVATE_KEY_FILE)


def forget_cached() -> None:
    """Drop the cached secrets (tests; a rotated secret on Lambda waits for the next cold start)."""
    webhook_secret.cache_clear()
    app_private_key.cache_clear()


def write_local_secret(path: Path, value: str) -> None:
    """Write a local secret file with mode 0600 (created so, never briefly readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value)
    os.chmod(path, 0o600)


def _data_dir() -> Path:
    from ..config import auth_settings
    return Path(auth_settings().data_dir)


def _owner_only_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
    except OSError:
        raise SecretUnavailable(f"no secret: set it in the environment or write {path} (mode 0600)") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretUnavailable(f"{path} is readable by others; chmod 600 it")
    value = path.read_bytes()
    if not value.strip():
        raise SecretUnavailable(f"{path} is empty")
    return value


def _from_secrets_manager(name: str) -> str:
    import boto3  # only on AWS, only on the first use after a cold start
    secret_id = os.environ.get(SECRETS_PREFIX_ENV, "mission-control/") + SECRET_NAMES[name]
    return boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
