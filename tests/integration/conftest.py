import itertools
import os

import pytest


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request):
    """The storage contract runs on both engines."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_store")
    return request.getfixturevalue("dynamo_store")


@pytest.fixture(scope="session")
def dynamo_local():
    """The endpoint URL of a DynamoDB Local started for this test session (in memory).

    boto3 is pointed at it through its own AWS_ENDPOINT_URL_DYNAMODB, with dummy credentials,
    for the rest of the session, so code under test needs no test-only switch.
    """
    import dynamodb_local
    try:
        server = dynamodb_local.start()
    except dynamodb_local.DynamoDBLocalUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.endpoint)
        env.setenv("AWS_ACCESS_KEY_ID", "local")
        env.setenv("AWS_SECRET_ACCESS_KEY", "local")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                     "AWS_ENDPOINT_URL_DYNAMODB_STREAMS"):
            env.delenv(name, raising=False)
        try:
            yield server.endpoint
        finally:
            server.stop()


_prefixes = itertools.count()


@pytest.fixture
def dynamo_store(dynamo_local):
    """A DynamoStore on tables of its own (a fresh TABLE_PREFIX), so tests cannot see each
    other's items or stream records."""
    from chalicelib.storage.dynamodb_engine import DynamoStore
    store = DynamoStore(f"t{os.getpid()}-{next(_prefixes)}-")
    store.ensure_tables()
    yield store
    store.close()
