"""What a running HQ holds: its settings, database, signing key, what it derives from the district key (when it
has it), bundle publisher and per-gate rate limits.

One `Hq` per server process, kept on `app.state.hq`; the gate API and, later, the staff pages reach
everything through it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from sync.core.bundle import load_signing_key
from sync.hq.bundle_watch import BundleWatch, read_counter
from sync.core.identity import load_district_key
from sync.hq.bundles import BundlePublisher
from sync.hq.db import HqDatabase
from sync.hq.district import DistrictSecrets
from sync.hq.gates import Sightings
from sync.hq.settings import HqSettings


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
        self.db = HqDatabase(settings.db)
        self.publisher = BundlePublisher(self.db, self.signing_key, self.secrets)
        self.sightings = Sightings(self.db)
        self.bundle_watch = BundleWatch(lambda: read_counter(self.db), settings.bundle_watch_seconds)
        self._limits = parse_many(settings.rate_limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def allow(self, gate_id: str) -> bool:
        """Count one request against the gate's limits; False when any limit is used up."""
        return all(self._limiter.hit(item, gate_id) for item in self._limits)

    def retry_after(self, gate_id: str) -> int:
        """Seconds until the gate may try again."""
        resets = [self._limiter.get_window_stats(item, gate_id).reset_time for item in self._limits]
        return max(1, math.ceil(max(resets) - self.clock()))

    def close(self) -> None:
        self.sightings.flush()
        self.db.dispose()
