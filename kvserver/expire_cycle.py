"""Active expiry: Redis 7.0's activeExpireCycle (expire.c), adapted to dicts.

Lazy expiry (keyspace.Db lookups) only removes keys that are touched; this
cycle finds the others.  As in Redis:

- the slow cycle runs from the cron, `hz` times a second, and may use
  ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC (25%, more with active-expire-effort)
  of each cron period;
- each db gets iterations of ~20 sampled keys with a TTL (more with
  effort), and is sampled again while more than 10% of a sample had
  expired, so CPU goes where the stale keys are;
- up to 16 dbs per call, resuming at the db after the last one visited;
- the elapsed time is checked every 16 iterations; when the budget is
  spent the cycle stops, `stats.expired_time_cap_reached` is incremented,
  and the fast cycle (below) gets to run;
- the fast cycle runs from before_sleep, at most every 2 ms and for at most
  1 ms, and only while the last cycle hit its time limit.  (Redis also
  compares the stale fraction with the acceptable percentage there, but
  the fraction is 0..1 and the percentage 10, so that test always passes;
  it is kept as written.)
- `stats.expired_stale_perc` is a moving average of the fraction (0..1, as
  Redis stores it; INFO prints it times 100) of sampled keys that were
  expired; `Db.avg_ttl` is Redis's running estimate of the TTL of the
  volatile keys for INFO keyspace (ms, 0 when none); cycle time accumulates
  in `stats.expire_cycle_cpu_ms`.

Where Redis walks hash-table buckets with a cursor, a dict cannot be
walked resumably while it changes, so each db keeps a snapshot of its
volatile keys (`Db.expire_cursor`, reversed so that popping walks it in
order) and samples from it; keys gone or no longer volatile are skipped,
at most 20 per sample slot as Redis bounds its empty buckets.  When the
snapshot runs out it is retaken: one O(volatile keys) copy per full pass,
which costs O(1) per key sampled.  Keys that get a TTL after a snapshot
wait for the next pass, as keys in buckets Redis's cursor has passed do.

TTLs are compared on kvserver.clock (tests may freeze it); the time budget
is measured on the real monotonic clock, since it bounds real CPU use.
Active expiry is off while `keyspace.active_expire_enabled` is false
(DEBUG SET-ACTIVE-EXPIRE 0).  Client pauses do not stop it yet.
"""

import time

from kvserver import clock

KEYS_PER_LOOP = 20          # ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP
FAST_DURATION = 1000        # ACTIVE_EXPIRE_CYCLE_FAST_DURATION, microseconds
SLOW_TIME_PERC = 25         # ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC
ACCEPTABLE_STALE = 10       # ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE
DBS_PER_CALL = 16           # CRON_DBS_PER_CALL

_perf_us = lambda: time.perf_counter_ns() // 1000   # noqa: E731


class ActiveExpire:
    """The state activeExpireCycle keeps in statics, for one server."""

    def __init__(self, server):
        self.server = server
        self.keyspace = server.keyspace
        self.current_db = 0
        self.timelimit_exit = False
        self.last_fast_cycle = 0
        self._us_carry = 0

    # --- entry points --------------------------------------------------------
    def cron(self):
        """databasesCron's share, plus the cached LRU clock serverCron keeps."""
        ks = self.keyspace
        ks.tick(self.server.config)
        if ks.active_expire_enabled:
            self.cycle(False)

    def before_sleep(self):
        # cheap exit first: this runs on every turn of the event loop
        if not self.timelimit_exit or not self.keyspace.active_expire_enabled:
            return
        self.cycle(True)

    # --- the cycle -----------------------------------------------------------
    def cycle(self, fast: bool):
        ks = self.keyspace
        stats = ks.stats
        cfg = self.server.config
        effort = getattr(cfg, "active_expire_effort", 1) - 1
        keys_per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP // 4 * effort
        fast_duration = FAST_DURATION + FAST_DURATION // 4 * effort
        slow_time_perc = SLOW_TIME_PERC + 2 * effort
        acceptable_stale = ACCEPTABLE_STALE - effort

        start = _perf_us()
        if fast:
            if not self.timelimit_exit and stats.expired_stale_perc < acceptable_stale:
                return
            if start < self.last_fast_cycle + fast_duration * 2:
                return
            self.last_fast_cycle = start

        dbs = ks.dbs
        ndbs = len(dbs)
        dbs_per_call = DBS_PER_CALL
        if dbs_per_call > ndbs or self.timelimit_exit:
            dbs_per_call = ndbs
        hz = cfg.hz if cfg.hz > 0 else 1
        timelimit = slow_time_perc * 1000000 // hz // 100
        if timelimit <= 0:
            timelimit = 1
        if fast:
            timelimit = fast_duration
        self.timelimit_exit = False

        total_sampled = total_expired = 0
        iteration = 0
        j = 0
        while j < dbs_per_call and not self.timelimit_exit:
            db = dbs[self.current_db % ndbs]
            self.current_db += 1
            j += 1
            while True:
                iteration += 1
                num = len(db.expires)
                if num == 0:
                    db.avg_ttl = 0
                    break
                if num > keys_per_loop:
                    num = keys_per_loop
                sampled, expired, ttl_sum, ttl_samples = _sample(db, num)
                total_expired += expired
                total_sampled += sampled
                if ttl_samples:
                    avg = ttl_sum // ttl_samples
                    if db.avg_ttl == 0:
                        db.avg_ttl = avg
                    db.avg_ttl = (db.avg_ttl // 50) * 49 + avg // 50
                if (iteration & 0xf) == 0 and _perf_us() - start > timelimit:
                    self.timelimit_exit = True
                    stats.expired_time_cap_reached += 1
                    break
                if sampled and expired * 100 // sampled <= acceptable_stale:
                    break

        elapsed = _perf_us() - start + self._us_carry
        stats.expire_cycle_cpu_ms += elapsed // 1000
        self._us_carry = elapsed % 1000
        perc = total_expired / total_sampled if total_sampled else 0.0
        stats.expired_stale_perc = perc * 0.05 + stats.expired_stale_perc * 0.95


def _sample(db, num: int):
    """Look at up to `num` volatile keys of `db` from its walk, expiring
    those past their time: (sampled, expired, ttl_sum, ttl_samples)."""
    expires = db.expires
    walk = db.expire_cursor
    now = clock.now_ms()
    sampled = expired = ttl_sum = ttl_samples = 0
    checks = num * 20
    retaken = False
    while sampled < num and checks:
        if not walk:
            if retaken:
                break
            walk = list(expires)
            walk.reverse()
            db.expire_cursor = walk
            retaken = True
        key = walk.pop()
        checks -= 1
        when = expires.get(key)
        if when is None:
            continue
        sampled += 1
        if now > when:
            db._evict_expired(key)
            expired += 1
        elif when > now:
            ttl_sum += when - now
            ttl_samples += 1
    return sampled, expired, ttl_sum, ttl_samples


def install(server) -> ActiveExpire:
    """Hook the cycle into `server`'s cron and before_sleep."""
    ae = ActiveExpire(server)
    server.hooks_cron.append(ae.cron)
    server.hooks_before_sleep.append(ae.before_sleep)
    return ae
