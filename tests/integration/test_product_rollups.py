"""Product roll-ups: /api/products counts each product apart, whatever its id holds, and a
batch selling many products counts each sale once."""
import time

from chalicelib.business import policy, queries, repository_for
from chalicelib.business.ingest import record_events
from chalicelib.business.models import Purchase


def now_ms() -> int:
    return int(time.time() * 1000)


def sale(i: int, product: str, amount: int, at: int) -> Purchase:
    return Purchase(orderId=f"o-{i}", productId=product, productName=f"Name of {product}",
                    amount=amount, currency="USD", userId=f"u-{i}", timestamp=at)


def test_a_live_batch_selling_forty_products_counts_each_sale_once(sqlite_store):
    repo = repository_for(sqlite_store, policy())
    at = now_ms() - 60_000
    record_events(repo, [sale(i, f"p-{i % 40}", 100 + i, at) for i in range(400)], policy(), now_ms())

    top = queries.products(repo, policy(), "50", "24h", now_ms())["products"]
    assert {r["productId"]: (r["downloads"], r["revenue"]) for r in top} == {
        f"p-{p}": (10, sum(100 + i for i in range(p, 400, 40))) for p in range(40)}


def test_product_ids_holding_separators_are_counted_apart(sqlite_store):
    """Ids are any printable text, ``#`` (which separates a roll-up key's parts) included."""
    repo = repository_for(sqlite_store, policy())
    at = now_ms() - 60_000
    ids = ["a", "a#b", "a#b#00", "x:y", "~01", "name", "orders"]
    record_events(repo, [sale(i, pid, 10 * (i + 1), at) for i, pid in enumerate(ids)],
                  policy(), now_ms())
    top = queries.products(repo, policy(), "50", "7d", now_ms())["products"]
    assert {r["productId"]: (r["productName"], r["downloads"], r["revenue"]) for r in top} == {
        pid: (f"Name of {pid}", 1, 10 * (i + 1)) for i, pid in enumerate(ids)}
