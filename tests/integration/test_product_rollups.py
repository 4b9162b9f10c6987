"""Product counters are packed: a slot's products share one roll-up item per bucket and shard
(issue 8), so a batch selling many products writes a few items, and /api/products answers
exactly as when each product had items of its own."""
import time

from chalicelib.business import policy, queries, repository_for
from chalicelib.business.ingest import record_events
from chalicelib.business.models import Purchase
from chalicelib.business.repository import PRODUCT_SLOTS
from chalicelib.timebuckets import bucket_start


def now_ms() -> int:
    return int(time.time() * 1000)


def sale(i: int, product: str, amount: int, at: int) -> Purchase:
    return Purchase(orderId=f"o-{i}", productId=product, productName=f"Name of {product}",
                    amount=amount, currency="USD", userId=f"u-{i}", timestamp=at)


def test_a_batch_selling_forty_products_writes_at_most_a_slot_item_per_bucket(sqlite_store):
    repo = repository_for(sqlite_store, policy())
    at = now_ms() - 60_000
    record_events(repo, [sale(i, f"p-{i % 40}", 100 + i, at) for i in range(400)], policy(), now_ms())

    day_items = sqlite_store.query("rollups", "prod#d", limit=1000).items
    assert len(day_items) <= PRODUCT_SLOTS * policy().shards
    top = queries.products(repo, policy(), "50", "24h", now_ms())["products"]
    assert len(top) == 40
    assert {r["productId"]: (r["downloads"], r["revenue"]) for r in top} == {
        f"p-{p}": (10, sum(100 + i for i in range(p, 400, 40))) for p in range(40)}


def test_product_ids_holding_separators_are_counted_apart(sqlite_store):
    """Ids are any printable text: ``:`` separates counter and product in a packed
    attribute name, ``#`` separates the sort key's parts, ``~`` starts a slot's name."""
    repo = repository_for(sqlite_store, policy())
    at = now_ms() - 60_000
    ids = ["a", "a:b", "a:b:c", "x#y", "~01", "name", "orders"]
    record_events(repo, [sale(i, pid, 10 * (i + 1), at) for i, pid in enumerate(ids)],
                  policy(), now_ms())
    top = queries.products(repo, policy(), "50", "7d", now_ms())["products"]
    assert {r["productId"]: (r["productName"], r["downloads"], r["revenue"]) for r in top} == {
        pid: (f"Name of {pid}", 1, 10 * (i + 1)) for i, pid in enumerate(ids)}


def test_product_items_written_before_packing_are_read_beside_packed_ones(sqlite_store):
    """Given a store holding a product's day item in the layout before packing."""
    repo = repository_for(sqlite_store, policy())
    at = now_ms() - 60_000
    day = bucket_start(at, "d", "UTC")
    sqlite_store.increment("rollups", "prod#d", f"{day:013d}#old#03",
                           {"orders": 2, "revenue": 300}, {"name": "Old one"})
    # When a sale of the same product and of another is packed beside it
    record_events(repo, [sale(1, "old", 50, at), sale(2, "new", 70, at)], policy(), now_ms())
    # Then both layouts add up
    top = queries.products(repo, policy(), "50", "7d", now_ms())["products"]
    assert top == [
        {"productId": "old", "productName": "Old one", "downloads": 3, "revenue": 350},
        {"productId": "new", "productName": "Name of new", "downloads": 1, "revenue": 70}]
