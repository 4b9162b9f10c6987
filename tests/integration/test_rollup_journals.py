"""A batch's roll-up increments go through journals (issue 8): each journal is written with
the events it counts and consumed exactly once, by its writer or, if the writer stopped
between the two, by the aggregateStats schedule."""
import threading
import time

import pytest

from chalicelib.business import policy, repository_for
from chalicelib.business.ingest import _write_claims, add_stale_journals, plan_claims, \
    record_events
from chalicelib.business.models import Purchase
from chalicelib.storage import GroupCancelled


def now_ms() -> int:
    return int(time.time() * 1000)


def live_batch(n: int, start: int = 0) -> list[Purchase]:
    """Live traffic: many products and users within minutes, so journals win over inline."""
    t = now_ms() - 300_000
    return [Purchase(orderId=f"o-{i}", productId=f"p-{i % 40}", productName=f"P{i % 40}",
                     amount=100 + i, currency="USD", userId=f"u-{i}", sessionId=f"s-{i // 3}",
                     timestamp=t + i * 397 % 240_000) for i in range(start, start + n)]


def orders(repo) -> int:
    return sum(c.get("orders", 0) for c in repo.counters("biz", "d", 0, 9_999_999_999_999).values())


def revenue_by_product(repo) -> dict:
    return {dim: c["revenue"] for (_b, dim), c in
            repo.counters("prod", "d", 0, 9_999_999_999_999).items()}


def test_a_live_batch_is_planned_through_journals_and_counted_at_once(sqlite_store):
    repo = repository_for(sqlite_store, policy())
    events = live_batch(500)
    claims, journaled = plan_claims(events, {}, policy(), repo.bucket_is_kept, now_ms())
    assert journaled and len(claims) > 1
    assert record_events(repo, events, policy(), now_ms()) == (500, 0)
    assert orders(repo) == 500
    assert all(sqlite_store.query("rollups", f"journal#{p}").items == [] for p in range(8))


def test_journals_left_by_a_stopped_writer_are_added_by_the_schedule_once(sqlite_store):
    """Given a writer that stored its claims and stopped before adding their journals."""
    repo = repository_for(sqlite_store, policy())
    events = live_batch(300)
    claims, journaled = plan_claims(events, {}, policy(), repo.bucket_is_kept, now_ms())
    assert journaled
    journals = [repo.journal_for(c, now_ms() - 120_000) for c in claims]
    repo.write_groups([repo.claim_ops(c, now_ms() - 120_000, j) for c, j in zip(claims, journals)])
    assert len(repo.stored_event_keys(e.key for e in events)) == 300
    assert orders(repo) == 0
    # When the schedule runs (twice: EventBridge delivers at least once).
    assert add_stale_journals(repo, now_ms()) == len(journals)
    assert add_stale_journals(repo, now_ms()) == 0
    # Then every event is counted once, and redelivering the batch changes nothing.
    assert orders(repo) == 300
    assert record_events(repo, events, policy(), now_ms()) == (0, 300)
    assert orders(repo) == 300


def test_a_recent_journal_is_left_to_its_writer(sqlite_store):
    repo = repository_for(sqlite_store, policy())
    claims, _ = plan_claims(live_batch(300), {}, policy(), repo.bucket_is_kept, now_ms())
    journals = [repo.journal_for(c, now_ms()) for c in claims]
    repo.write_groups([repo.claim_ops(c, now_ms(), j) for c, j in zip(claims, journals)])
    assert add_stale_journals(repo, now_ms()) == 0


def test_a_writer_and_the_schedule_racing_for_journals_count_them_once(tmp_path):
    from chalicelib.storage.sqlite_engine import SqliteStore
    path = str(tmp_path / "shared.db")
    repo = repository_for(SqliteStore(path), policy())
    events = live_batch(400)
    claims, _ = plan_claims(events, {}, policy(), repo.bucket_is_kept, now_ms())
    journals = [repo.journal_for(c, now_ms() - 120_000) for c in claims]
    repo.write_groups([repo.claim_ops(c, now_ms(), j) for c, j in zip(claims, journals)])
    threads = [threading.Thread(target=lambda: add_stale_journals(
        repository_for(SqliteStore(path), policy()), now_ms())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert orders(repo) == 400
    assert sum(revenue_by_product(repo).values()) == sum(e.amount for e in events)


def test_a_store_failure_after_the_claims_still_adds_their_journals(sqlite_store):
    """The claims commit, the step adding their journals fails once: the writer finds its
    journals still stored and adds them before reporting the failure."""
    repo = repository_for(sqlite_store, policy())
    events = live_batch(500)
    real, calls = sqlite_store.transact, {"n": 0}

    def fail_first_journal_consumption(ops):
        if any(type(op).__name__ == "Delete" for op in ops) and not calls["n"]:
            calls["n"] += 1
            raise ConnectionError("throttled")
        return real(ops)

    sqlite_store.transact = fail_first_journal_consumption
    with pytest.raises(ConnectionError):
        record_events(repo, events, policy(), now_ms())
    sqlite_store.transact = real
    assert len(repo.stored_event_keys(e.key for e in events)) == 500
    assert orders(repo) == 500


def test_a_claim_meeting_a_stored_event_is_cancelled_whole_and_those_before_stand(sqlite_store):
    repo = repository_for(sqlite_store, policy())
    events = live_batch(300)
    record_events(repo, events[150:151], policy(), now_ms())  # another writer stored one
    claims, _ = plan_claims(events, {}, policy(), repo.bucket_is_kept, now_ms())
    earlier = now_ms() - 120_000
    with pytest.raises(GroupCancelled) as cancelled:
        repo.write_groups([repo.claim_ops(c, earlier, repo.journal_for(c, earlier))
                           for c in claims])
    written = [e for c in claims[:cancelled.value.group] for e in c.events]
    stopped = claims[cancelled.value.group].events
    assert 0 < len(written) < 299
    assert len(repo.stored_event_keys(e.key for e in stopped)) == 1  # only the other writer's
    assert add_stale_journals(repo, now_ms()) == cancelled.value.group
    assert orders(repo) == len(written) + 1
    assert record_events(repo, events, policy(), now_ms()) == (299 - len(written), len(written) + 1)
    assert orders(repo) == 300


def test_write_claims_reports_how_many_claims_it_wrote(sqlite_store):
    repo = repository_for(sqlite_store, policy())
    events = live_batch(300)
    claims, journaled = plan_claims(events, {}, policy(), repo.bucket_is_kept, now_ms())
    assert _write_claims(repo, claims, journaled, now_ms()) == len(claims)
    assert orders(repo) == 300


def test_the_aggregate_stats_schedule_adds_stale_journals(api, sqlite_store):
    from chalicelib.local.worker import scheduled_event
    repo = repository_for(sqlite_store, policy())
    claims, journaled = plan_claims(live_batch(300), {}, policy(), repo.bucket_is_kept, now_ms())
    journals = [repo.journal_for(c, now_ms() - 120_000) for c in claims]
    repo.write_groups([repo.claim_ops(c, now_ms(), j) for c, j in zip(claims, journals)])
    assert journaled and orders(repo) == 0
    api.lambda_.invoke("aggregateStats", scheduled_event("aggregateStats", time.time()))
    assert orders(repo) == 300


def batch_across_an_hour(n: int) -> list[Purchase]:
    """Live traffic in the two minutes either side of an hour: twice the hour buckets."""
    hour = (now_ms() - 300_000) // 3_600_000 * 3_600_000
    return [Purchase(orderId=f"x-{i}", productId=f"p-{i % 40}", productName=f"P{i % 40}",
                     amount=100 + i, currency="USD", userId=f"u-{i}", sessionId=f"s-{i // 3}",
                     timestamp=hour - 120_000 + i * 397 % 240_000) for i in range(n)]


def test_a_live_batch_increments_each_rollup_item_once(sqlite_store):
    """The batch's journals are split by part of its counter keys, each part consumed in a
    transaction of its own: no key is incremented by two transactions of one batch."""
    repo = repository_for(sqlite_store, policy())
    real, increments, parts_per_claim = sqlite_store.transact, [], []

    def spy(ops):
        increments.extend((op.pk, op.sk) for op in ops if type(op).__name__ == "Increment")
        if any(op.table == "events" for op in ops):
            parts_per_claim.append(sum(1 for op in ops if op.table == "rollups"))
        return real(ops)

    sqlite_store.transact = spy
    events = batch_across_an_hour(500)
    assert record_events(repo, events, policy(), now_ms()) == (500, 0)
    assert len(increments) == len(set(increments))
    assert max(parts_per_claim) > 1
    assert orders(repo) == 500
    assert sum(revenue_by_product(repo).values()) == sum(e.amount for e in events)


def test_journal_parts_left_by_a_stopped_writer_are_added_by_the_schedule_once(sqlite_store):
    repo = repository_for(sqlite_store, policy())
    events = batch_across_an_hour(500)
    claims, journaled = plan_claims(events, {}, policy(), repo.bucket_is_kept, now_ms())
    assert journaled
    earlier = now_ms() - 120_000
    from chalicelib.business.ingest import _key_parts
    part_of = _key_parts([c.delta.counters.keys() for c in claims])
    assert len(set(part_of.values())) > 1
    parts = [repo.journals_for(c, earlier, part_of) for c in claims]
    repo.write_groups([repo.claim_ops(c, earlier, list(p.values())) for c, p in zip(claims, parts)])
    assert orders(repo) == 0
    assert add_stale_journals(repo, now_ms()) == sum(len(p) for p in parts)
    assert add_stale_journals(repo, now_ms()) == 0
    assert orders(repo) == 500
    assert sum(revenue_by_product(repo).values()) == sum(e.amount for e in events)
    assert record_events(repo, events, policy(), now_ms()) == (0, 500)
