"""Demo traffic: a small software shop with realistic rhythms, for `make run`.

Sessions arrive with daily and weekly seasonality and slow growth; visitors browse a few
pages, some sign in and use features (one behind a flag switched on two weeks ago), and a
few buy from a catalogue with uneven popularity. Seeded, so a given seed and range always
give the same events.

The live traffic of ``make run`` (``LIVE_SHAPE``) is a busier hour of the same shop: about 50
visits, 3 purchases and 2 sign-ups a minute, and never more than ``LIVE_MAX_QUIET_MS`` without
a purchase or a new user, so every number on the Overview moves within a minute.
"""
from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from typing import Iterator

from ..business.models import BusinessEvent, CustomEvent, PageView, Purchase
from ..timebuckets import DAY_MS, HOUR_MS

CATALOGUE = [  # id, name, price (minor units), popularity weight
    ("starter", "Starter plan", 900, 30), ("pro", "Pro plan", 2900, 22),
    ("team", "Team plan", 7900, 9), ("enterprise", "Enterprise plan", 29900, 1.5),
    ("ebook-ops", "Ops Handbook (ebook)", 1999, 12), ("course-aws", "AWS Course", 4999, 6),
    ("theme-dark", "Dark Theme Pack", 499, 14), ("icons", "Icon Set", 799, 10),
    ("api-credits", "API Credits 10k", 1500, 8), ("support", "Priority Support", 9900, 2),
]
PAGES = ["/", "/pricing", "/features", "/docs", "/blog", "/signup", "/checkout", "/account"]
REFERRERS = [None, None, "https://www.google.com/", "https://news.ycombinator.com/",
             "https://twitter.com/", "https://github.com/"]
FEATURES = [("dashboards", 0.45), ("export", 0.22), ("alerts", 0.30), ("api", 0.12),
            ("sso", 0.06)]
FLAGGED_FEATURE, FLAG_ON_DAYS_AGO = ("ai-insights", 0.18), 14


@dataclass(frozen=True)
class DemoShape:
    sessions_per_day: float = 700.0
    users: int = 2500
    signed_in_share: float = 0.55
    conversion: float = 0.035
    #: anonymous visitors who sign up during the session (new users: DAU and MAU move)
    signup_share: float = 0.0


#: the ids of users who signed up during a session start with this
NEW_USER_PREFIX = "u-new"
#: the live traffic's shop: the history's, busier, with sign-ups (see the module docstring)
LIVE_SHAPE = DemoShape(conversion=0.05, signup_share=0.08)
LIVE_SESSIONS_PER_MINUTE = 40.0
#: the longest the live traffic goes without a purchase, or without a new user, in ms
LIVE_MAX_QUIET_MS = {"purchase": 30_000, "signup": 35_000}


def _intensity(ts_ms: int, start_ms: int, tz_offset_h: float) -> float:
    """Relative traffic at a moment: peak mid-afternoon, quiet at night, calmer weekends,
    growing ~1 % a week."""
    hour = ((ts_ms / HOUR_MS) + tz_offset_h) % 24
    daily = 0.25 + 0.75 * (0.5 + 0.5 * math.cos((hour - 14.5) / 24 * 2 * math.pi)) ** 2
    weekday = int(((ts_ms / DAY_MS) + 3) % 7)  # 0 = Monday (1970-01-01 was a Thursday)
    weekly = 0.65 if weekday >= 5 else 1.0
    growth = 1 + 0.01 * (ts_ms - start_ms) / (7 * DAY_MS)
    return daily * weekly * growth


class DemoTraffic:
    def __init__(self, seed: int = 7, shape: DemoShape = DemoShape(), currency: str = "USD",
                 flag_on_ms: int | None = None):
        self.rng = random.Random(seed)
        self.shape, self.currency = shape, currency
        self.flag_on_ms = flag_on_ms
        self._n = 0
        weights = [w for *_rest, w in CATALOGUE]
        self._catalogue_weights = weights
        # Zipf-like: a few users come back often.
        self._user_weights = [1 / (i + 1) ** 0.8 for i in range(shape.users)]

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self.rng.getrandbits(40):010x}{self._n:x}"

    def session(self, start_ms: int) -> list[BusinessEvent]:
        """One visitor session's events, in time order, starting at ``start_ms``."""
        rng, shape = self.rng, self.shape
        session_id = self._id("s")
        user = None
        if rng.random() < shape.signed_in_share:
            user = "u-%04d" % rng.choices(range(shape.users), self._user_weights)[0]
        events: list[BusinessEvent] = []
        t = start_ms
        referrer = rng.choice(REFERRERS)
        for i in range(max(1, min(12, int(rng.expovariate(1 / 3.0)) + 1))):
            events.append(PageView(eventId=self._id("pv"), sessionId=session_id, userId=user,
                                   page=rng.choice(PAGES), referrer=referrer if i == 0 else None,
                                   timestamp=t))
            t += int(rng.uniform(8, 150) * 1000)
        if user is None and shape.signup_share and rng.random() < shape.signup_share:
            user, t = self._sign_up(events, session_id, t)
        if user is not None:
            features = list(FEATURES)
            if self.flag_on_ms is not None and start_ms >= self.flag_on_ms:
                features.append(FLAGGED_FEATURE)
            for feature, p in features:
                if rng.random() < p * 0.5:
                    events.append(CustomEvent(eventId=self._id("ev"), name=f"{feature}.used",
                                              userId=user, sessionId=session_id, feature=feature,
                                              timestamp=t))
                    t += int(rng.uniform(5, 60) * 1000)
        if rng.random() < shape.conversion * (1.6 if user else 0.6):
            pid, name, price, _w = rng.choices(CATALOGUE, self._catalogue_weights)[0]
            events.append(Purchase(orderId=self._id("o"), productId=pid, productName=name,
                                   amount=price, currency=self.currency,
                                   userId=user or self._id("guest"), sessionId=session_id,
                                   timestamp=t))
        return events

    def _sign_up(self, events: list[BusinessEvent], session_id: str, t: int) -> tuple[str, int]:
        """The visitor signs up: a new user id from the /signup page on."""
        user = self._id(NEW_USER_PREFIX)
        events.append(PageView(eventId=self._id("pv"), sessionId=session_id, userId=user,
                               page="/signup", timestamp=t))
        return user, t + int(self.rng.uniform(5, 20) * 1000)

    def signup_session(self, start_ms: int) -> list[BusinessEvent]:
        """A new visitor who signs up at once and tries a feature."""
        session_id = self._id("s")
        events: list[BusinessEvent] = [PageView(eventId=self._id("pv"), sessionId=session_id,
                                                page="/", referrer=self.rng.choice(REFERRERS),
                                                timestamp=start_ms)]
        user, t = self._sign_up(events, session_id, start_ms + int(self.rng.uniform(5, 15) * 1000))
        feature = self.rng.choice(FEATURES)[0]
        events.append(CustomEvent(eventId=self._id("ev"), name=f"{feature}.used", userId=user,
                                  sessionId=session_id, feature=feature, timestamp=t))
        return events

    def quick_purchase(self, start_ms: int) -> list[BusinessEvent]:
        """A returning customer who knows what they want: pricing, checkout, a purchase within
        half a minute."""
        rng = self.rng
        session_id = self._id("s")
        user = "u-%04d" % rng.choices(range(self.shape.users), self._user_weights)[0]
        t = start_ms
        events: list[BusinessEvent] = []
        for page in ("/pricing", "/checkout"):
            events.append(PageView(eventId=self._id("pv"), sessionId=session_id, userId=user,
                                   page=page, timestamp=t))
            t += int(rng.uniform(4, 12) * 1000)
        pid, name, price, _w = rng.choices(CATALOGUE, self._catalogue_weights)[0]
        events.append(Purchase(orderId=self._id("o"), productId=pid, productName=name, amount=price,
                               currency=self.currency, userId=user, sessionId=session_id, timestamp=t))
        return events

    def events_between(self, start_ms: int, end_ms: int, origin_ms: int,
                       tz_offset_h: float = 0.0) -> Iterator[BusinessEvent]:
        """Events of the sessions starting in ``[start_ms, end_ms)``, in time order, none
        later than ``end_ms`` (a session still running at the end is cut there)."""
        per_ms = self.shape.sessions_per_day / DAY_MS
        heap: list[tuple[int, int, BusinessEvent]] = []
        n = 0
        t = start_ms
        step = 60_000  # sessions are drawn minute by minute with the minute's intensity
        while t < end_ms:
            expected = per_ms * step * _intensity(t, origin_ms, tz_offset_h)
            for _ in range(_poisson(self.rng, expected)):
                for event in self.session(t + int(self.rng.uniform(0, step))):
                    if event.timestamp < end_ms:
                        n += 1
                        heapq.heappush(heap, (event.timestamp, n, event))
            t += step
            while heap and heap[0][0] < t - 15 * 60_000:  # sessions last well under 15 min
                yield heapq.heappop(heap)[2]
        while heap:
            yield heapq.heappop(heap)[2]


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: exact and fast for the small means of one minute of traffic.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
