import pytest


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request):
    """The storage contract runs on both engines."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_store")
    return request.getfixturevalue("dynamo_store")
