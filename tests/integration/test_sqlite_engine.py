"""SQLite-specific behaviour: several processes (chalice local, the worker, missionctl) share
one file."""
import threading

from chalicelib.storage.sqlite_engine import SqliteStore


def test_many_openers_of_a_new_file_at_once_all_succeed(tmp_path):
    for trial in range(10):
        path = str(tmp_path / f"new-{trial}.db")
        errors = []

        def open_and_write(n):
            try:
                SqliteStore(path).put("events", {"pk": f"p{n}", "sk": "e"})
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=open_and_write, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(SqliteStore(path).query("events", "p0").items) == 1
