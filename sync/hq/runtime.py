"""What a running HQ process holds: its settings, its databases (the primary, and where the dashboard's heavy
reads go), signing key, what it derives from the district key (when it has it), bundle publisher, rate limits and
background jobs.

One `Hq` per server process, kept on `app.state.hq`; the gate API and the staff pages reach everything through
it. Nothing in it is the only copy of anything: sessions, rate-limit counts (on PostgreSQL), uploaded files and
background work live in the database, so a city runs as many HQ processes as it needs on one PostgreSQL and any
of them may answer any request (see README, "HQ for a city"). What a process keeps to itself is a cache
(signed bundles, by gate and bundle version) or a batch on its way to the database (gates' last contact).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta

from limits import parse_many
from limits.strategies import MovingWindowRateLimiter

from sync.core.bundle import load_signing_key
from sync.core.identity import load_district_key
from sync.hq.bundle_watch import BundleWatch, read_counter
from sync.hq.bundles import BundlePublisher
from sync.hq.db import HqDatabase
from sync.hq.district import DistrictSecrets
from sync.hq.gates import Sightings
from sync.hq.jobs import Jobs
from sync.hq.rate_store import limits_storage
from sync.hq.replica import Reads
from sync.hq.settings import HqSettings
from sync.hq.staff import SessionTimes


class Hq:
    def __init__(self, settings: HqSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        """Seconds since the epoch, for rate limits' waits (a test gives its own)."""
        self.signing_key = load_signing_key(settings.signing_key_file)
        self.secrets = (
            DistrictSecrets(load_district_key(settings.district_key_file)) if settings.district_key_file else None
        )
        """None without the district key: bundles then carry no gate key, and typed IDs cannot be unsealed."""
        self.db = HqDatabase(settings.db, settings.db_connections)
        self.reads = Reads(self.db, settings.read_db, settings.db_connections)
        """The dashboard's tracing and overview read here: the replica (`read_db`) when there is one."""
        self.publisher = BundlePublisher(self.db, self.signing_key, self.secrets)
        self.sightings = Sightings(self.db)
        self.bundle_watch = BundleWatch(lambda: read_counter(self.db), settings.bundle_watch_seconds)
        self.jobs = Jobs(self.db)
        self.session_times = SessionTimes(
            idle=timedelta(minutes=settings.session_idle_minutes), longest=timedelta(hours=settings.session_max_hours)
        )
        self.limits = MovingWindowRateLimiter(limits_storage(settings.rate_limit_store, self.db, clock))
        """Every rate limit of this HQ counts here (the gates' and the sign-in limits)."""
        self._gate_limits = parse_many(settings.rate_limit)

    def allow(self, gate_id: str) -> bool:
        """Count one request against the gate's limits; False when any limit is used up."""
        return all(self.limits.hit(item, gate_id) for item in self._gate_limits)

    def retry_after(self, gate_id: str) -> int:
        """Seconds until the gate may try again."""
        resets = [self.limits.get_window_stats(item, gate_id).reset_time for item in self._gate_limits]
        return max(1, math.ceil(max(resets) - self.clock()))

    def close(self) -> None:
        self.sightings.flush()
        self.reads.dispose()
        self.db.dispose()
