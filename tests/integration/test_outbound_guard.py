"""Outside the dev stage, outbound requests to user-given URLs never reach private addresses:
not by address, not by a name that resolves to one, not by a redirect."""
import pytest
import requests
from loopback_receiver import LoopbackReceiver

from chalicelib.alerts.delivery import Deliverer
from chalicelib.alerts.outbound import RefusedAddress, check_url, is_public, outbound_session, refused


@pytest.fixture
def receiver():
    r = LoopbackReceiver.start()
    yield r
    r.stop()


def test_private_loopback_link_local_and_reserved_addresses_are_not_public():
    for address in ("127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                    "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "224.0.0.1"):
        assert not is_public(address), address
    assert is_public("93.184.215.14") and is_public("2606:4700::6810:84e5")


def test_in_prod_a_delivery_to_loopback_is_refused_before_anything_is_sent(receiver):
    prod = Deliverer(attempts=3, backoff_s=0, timeout_s=2, allow_private=False)
    outcome = prod.deliver({"type": "slack", "url": receiver.url("/x")}, {"status": "test", "rule": {
        "name": "t", "severity": "LOW"}, "notificationId": "n"})
    assert outcome.status == "failed" and outcome.error.startswith("refused") and outcome.attempts == 0
    assert receiver.requests == []


def test_a_name_that_resolves_to_a_private_address_is_refused_where_the_socket_connects(receiver):
    # check_url lets names through (they are judged on their addresses when used), so this
    # exercises the connection itself: "localhost." resolves to loopback.
    session = outbound_session(allow_private=False)
    with pytest.raises(requests.ConnectionError) as caught:
        session.post(f"http://localhost.:{receiver.port}/x", data=b"{}", timeout=2)
    assert isinstance(refused(caught.value), RefusedAddress)
    assert receiver.requests == []


def test_a_redirect_is_not_followed_it_is_a_failed_delivery(receiver):
    receiver.always(302)
    dev = Deliverer(attempts=3, backoff_s=0, timeout_s=2, allow_private=True)
    outcome = dev.deliver({"type": "slack", "url": receiver.url("/x")}, {"status": "test", "rule": {
        "name": "t", "severity": "LOW"}, "notificationId": "n"})
    assert (outcome.status, outcome.http_status, outcome.attempts) == ("failed", 302, 1)
    assert len(receiver.requests) == 1


def test_in_dev_loopback_receivers_work_and_urls_need_only_a_scheme_and_host(receiver):
    check_url(receiver.url("/x"), allow_private=True)
    with pytest.raises(RefusedAddress):
        check_url("file:///etc/passwd", allow_private=True)
    with pytest.raises(RefusedAddress):
        check_url("http://example.com/hook", allow_private=False)  # prod: https only
