"""CI storage, through the storage interface only.

Table ``ci_runs`` (streamed: its changes are what the live feature pushes on the ``ci`` topic):

- ``repos`` / ``<owner>/<name>``: a repository with its default branch, installation and the
  latest run per workflow on the default branch (``latest``), versioned;
- ``run#<owner>/<name>#<runId>`` / ``run``: a run (versioned); its jobs under the same
  partition, ``job#<jobId>``, so one query reads a run with its jobs and steps. Runs are in
  the index ``gsi1`` as ``runs#<owner>/<name>`` / ``<createdAt:13>#<runId:12>``: a repository's
  runs newest first;
- ``check#<owner>/<name>`` / ``<kind>#<id>``: check suites and runs.

Table ``ci``: ``delivery#<guid>`` / ``delivery`` (what makes a redelivery change nothing),
``health#<owner>/<name>#<workflow>`` / ``d#<date>`` and ``h#<hourStart:13>`` (roll-ups of all
branches; ``dd#``/``hd#`` the default branch's),
``workflows`` / ``<owner>/<name>#<workflow>`` (every workflow with roll-ups), ``deploys`` /
``<createdAt:13>#<owner>/<name>#<runId>`` (deploy runs by time), ``backfill`` / ``<installationId>``
(backfills asked for and not yet done), ``prefs#<subject>`` / ``prefs`` (a user's settings).

Runs, jobs, checks and deliveries expire after the run TTL (30 days); roll-ups after 60.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..storage import Increment, Item, Op, Page, Put, Store, VersionConflict, VersionedPut

RUNS, CI = "ci_runs", "ci"
ROLLUP_TTL_MS = 60 * 86_400_000


def run_pk(repo: str, run_id: int) -> str:
    return f"run#{repo}#{run_id}"


def run_sort(created_at: int, run_id: int) -> str:
    return f"{created_at:013d}#{run_id:012d}"


def strip(item: Item | None) -> dict[str, Any] | None:
    """A stored item without its storage keys."""
    if item is None:
        return None
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk", "ttl")}


class CiRepository:
    def __init__(self, store: Store, ttl_ms: int):
        self.store = store
        self.ttl_ms = ttl_ms

    def _ttl(self, now_ms: int, keep_ms: int | None = None) -> int:
        return (now_ms + (keep_ms or self.ttl_ms)) // 1000

    # -- reads ----------------------------------------------------------------------------------
    def run(self, repo: str, run_id: int) -> Item | None:
        return self.store.get(RUNS, run_pk(repo, run_id), "run")

    def run_with_jobs(self, repo: str, run_id: int) -> tuple[Item | None, list[Item]]:
        items = self._all(RUNS, run_pk(repo, run_id))
        run = next((i for i in items if i["sk"] == "run"), None)
        return run, [i for i in items if i["sk"].startswith("job#")]

    def job(self, repo: str, run_id: int, job_id: int) -> Item | None:
        return self.store.get(RUNS, run_pk(repo, run_id), f"job#{job_id}")

    def runs_page(self, repo: str, limit: int, cursor: str | None) -> Page:
        return self.store.query(RUNS, f"runs#{repo}", index="gsi1", newest_first=True, limit=limit, cursor=cursor)

    def repo(self, repo: str) -> Item | None:
        return self.store.get(RUNS, "repos", repo)

    def repos(self) -> list[Item]:
        return self._all(RUNS, "repos")

    def check(self, repo: str, kind: str, check_id: int) -> Item | None:
        return self.store.get(RUNS, f"check#{repo}", f"{kind}#{check_id}")

    def workflows(self) -> list[Item]:
        return self._all(CI, "workflows")

    def health_buckets(self, repo: str, workflow: str, first: str, last: str) -> list[Item]:
        return self._all(CI, f"health#{repo}#{workflow}", sk_min=first, sk_max=last)

    def deploys(self, since_ms: int, until_ms: int, limit: int) -> list[Item]:
        return self.store.query(CI, "deploys", sk_min=f"{since_ms:013d}", sk_max=f"{until_ms:013d}~",
                                newest_first=True, limit=limit).items

    def pending_backfills(self) -> list[Item]:
        return self._all(CI, "backfill")

    def preferences(self, subject: str) -> Item | None:
        return self.store.get(CI, f"prefs#{subject}", "prefs")

    def _all(self, table: str, pk: str, **bounds: Any) -> list[Item]:
        items: list[Item] = []
        cursor = None
        while True:
            page = self.store.query(table, pk, newest_first=False, limit=500, cursor=cursor, **bounds)
            items += page.items
            cursor = page.cursor
            if cursor is None:
                return items

    # -- writes (as ops, so intake writes a delivery and what it changes all or nothing) --------
    def delivery_op(self, delivery_id: str, event: str, now_ms: int) -> Put:
        return Put(CI, {"pk": f"delivery#{delivery_id}", "sk": "delivery", "event": event,
                        "receivedAt": now_ms, "ttl": self._ttl(now_ms)})

    def run_op(self, run: dict[str, Any], stored: Item | None, now_ms: int) -> VersionedPut:
        item = {**run, "pk": run_pk(run["repo"], run["runId"]), "sk": "run", "gsi1pk": f"runs#{run['repo']}",
                "gsi1sk": run_sort(run["createdAt"], run["runId"]), "ttl": self._ttl(now_ms)}
        return VersionedPut(RUNS, item, stored.get("version") if stored else None)

    def job_op(self, job: dict[str, Any], stored: Item | None, now_ms: int) -> VersionedPut:
        item = {**job, "pk": run_pk(job["repo"], job["runId"]), "sk": f"job#{job['jobId']}",
                "ttl": self._ttl(now_ms)}
        return VersionedPut(RUNS, item, stored.get("version") if stored else None)

    def check_op(self, check: dict[str, Any], stored: Item | None, now_ms: int) -> VersionedPut:
        item = {**check, "pk": f"check#{check['repo']}", "sk": f"{check['kind']}#{check['id']}",
                "ttl": self._ttl(now_ms)}
        return VersionedPut(RUNS, item, stored.get("version") if stored else None)

    def repo_op(self, repo: dict[str, Any], stored: Item | None) -> VersionedPut:
        return VersionedPut(RUNS, {**repo, "pk": "repos", "sk": repo["repo"]},
                            stored.get("version") if stored else None)

    def rollup_ops(self, repo: str, workflow: str, day: str, hour_ms: int, deltas: dict[str, int],
                   now_ms: int, default_branch: bool) -> list[Op]:
        """All branches' buckets (``d#``, ``h#``) and, for a run on the default branch, its own
        (``dd#``, ``hd#``), so "main's failure rate" reads main's runs only."""
        defaults = {"repo": repo, "workflow": workflow, "ttl": self._ttl(now_ms, ROLLUP_TTL_MS)}
        pk = f"health#{repo}#{workflow}"
        scopes = ("", "d") if default_branch else ("",)
        return [*(Increment(CI, pk, f"d{scope}#{day}", deltas, defaults) for scope in scopes),
                *(Increment(CI, pk, f"h{scope}#{hour_ms:013d}", deltas, defaults) for scope in scopes),
                Increment(CI, "workflows", f"{repo}#{workflow}", {"completed": 1},
                          {"repo": repo, "workflow": workflow})]

    def deploy_op(self, run: dict[str, Any], now_ms: int) -> Put:
        return Put(CI, {"pk": "deploys", "sk": f"{run['createdAt']:013d}#{run['repo']}#{run['runId']}",
                        "repo": run["repo"], "runId": run["runId"], "workflowName": run["workflowName"],
                        "status": run["status"], "conclusion": run.get("conclusion"), "branch": run.get("branch"),
                        "sha": run.get("sha"), "actor": run.get("actor"), "title": run.get("title"),
                        "htmlUrl": run.get("htmlUrl"), "createdAt": run["createdAt"],
                        "updatedAt": run["updatedAt"], "ttl": self._ttl(now_ms)}, if_absent=False)

    def backfill_op(self, installation_id: int, now_ms: int) -> Put:
        # version 0: a runner claims it with a versioned write (``claim_backfill``)
        return Put(CI, {"pk": "backfill", "sk": str(installation_id), "installationId": installation_id,
                        "askedAt": now_ms, "version": 0}, if_absent=False)

    def claim_backfill(self, pending: Item, now_ms: int, lease_ms: int) -> bool:
        """Take a pending backfill for ``lease_ms``: a runner that starts meanwhile skips it, and
        one that stops without finishing leaves it to the next runner once the lease is over."""
        if pending.get("claimedUntil", 0) > now_ms:
            return False
        try:
            self.store.put_versioned(CI, {**pending, "claimedUntil": now_ms + lease_ms}, pending.get("version"))
        except VersionConflict:
            return False
        return True

    def backfill_done(self, installation_id: int) -> None:
        self.store.delete(CI, "backfill", str(installation_id))

    def save_run_requests(self, run: Item, requested: list[dict[str, Any]]) -> Item:
        """The run with who asked for re-runs and cancels; ``VersionConflict`` if it moved meanwhile."""
        return self.store.put_versioned(RUNS, {**run, "requestedBy": requested}, run.get("version"))

    def save_preferences(self, subject: str, prefs: dict[str, Any], expected_version: int | None) -> Item:
        return self.store.put_versioned(CI, {**prefs, "pk": f"prefs#{subject}", "sk": "prefs"}, expected_version)

    def write(self, ops: Sequence[Op]) -> None:
        self.store.transact(list(ops))
