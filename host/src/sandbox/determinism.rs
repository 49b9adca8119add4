//! Deterministic mode inside the sandbox: one virtual time and one
//! seed for all the steps of a run. Every clock a guest can read (WASI's
//! wall and monotonic clocks, and so `Date`, `date`, `$SECONDS`) reads the
//! virtual time, which starts at the given instant and moves only when a
//! guest reads it (by [`TICK`]) or waits (by what it waits: `sleep 60`
//! returns at once, 60 s later in virtual time). Every source of randomness
//! (WASI random, so `Math.random` and `$RANDOM`) is a generator seeded from
//! the seed and the order in which steps ask for one. Nothing here depends
//! on the machine, the directory or the time of day.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime_wasi::HostWallClock;

/// How far virtual time moves at each read of a clock, so that two reads
/// differ as they would in real time.
pub(crate) const TICK: Duration = Duration::from_micros(1000);

/// A run's virtual time and seed, shared by its steps (and its
/// sub-runbooks' steps, which run in order between them).
#[derive(Clone, Debug)]
pub struct Virtual {
    seed: u64,
    /// The wall clock's reading at virtual time zero, since the Unix epoch.
    start: Duration,
    /// Virtual nanoseconds since `start`.
    elapsed: Arc<AtomicU64>,
    /// Generators handed out so far: the next one's stream.
    streams: Arc<AtomicU64>,
}

impl Virtual {
    /// Virtual time starting at `start` (since the Unix epoch), randomness
    /// from `seed`.
    pub fn new(seed: u64, start: Duration) -> Virtual {
        Virtual { seed, start, elapsed: Arc::default(), streams: Arc::default() }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The wall clock's reading at virtual time zero, since the Unix epoch.
    pub(crate) fn start(&self) -> Duration {
        self.start
    }

    /// Virtual nanoseconds so far, after one tick.
    pub(crate) fn read(&self) -> u64 {
        self.elapsed.fetch_add(nanos(TICK), Ordering::SeqCst) + nanos(TICK)
    }

    /// Virtual nanoseconds so far, without moving.
    pub(crate) fn now(&self) -> u64 {
        self.elapsed.load(Ordering::SeqCst)
    }

    /// Moves virtual time to `until` (nanoseconds), if that is later.
    pub(crate) fn advance_to(&self, until: u64) {
        self.elapsed.fetch_max(until, Ordering::SeqCst);
    }

    /// A generator of its own for the next guest that asks, from the seed
    /// and how many were handed out before it.
    pub(crate) fn rng(&self) -> StdRng {
        let stream = self.streams.fetch_add(1, Ordering::SeqCst);
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&stream.to_le_bytes());
        seed[16..].copy_from_slice(b"runbox-determin!");
        StdRng::from_seed(seed)
    }

    /// A run's `RUNBOOK_API_TOKEN` handle: its own, drawn like a generator.
    pub fn handle(&self) -> String {
        use rand::Rng;
        let mut rng = self.rng();
        format!("runbox-handle-{:016x}{:016x}", rng.next_u64(), rng.next_u64())
    }

    /// A seed for `wasi:random/insecure-seed`.
    pub(crate) fn insecure_seed(&self) -> u128 {
        u128::from(self.seed) << 64 | u128::from(self.streams.fetch_add(1, Ordering::SeqCst))
    }

    /// The wall clock guests read.
    pub(crate) fn wall_clock(&self) -> WallClock {
        WallClock(self.clone())
    }
}

pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `wasi:clocks/wall-clock` in virtual time.
pub(crate) struct WallClock(Virtual);

impl HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        self.0.start + Duration::from_nanos(self.0.read())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn time_moves_by_reads_and_waits_only() {
        let time = Virtual::new(7, Duration::from_secs(1_767_225_600));
        let wall = time.wall_clock();
        assert_eq!(wall.now(), Duration::from_secs(1_767_225_600) + TICK);
        assert_eq!(wall.now(), Duration::from_secs(1_767_225_600) + 2 * TICK);
        time.advance_to(nanos(Duration::from_secs(60)));
        time.advance_to(nanos(Duration::from_secs(1)));
        assert_eq!(time.now(), nanos(Duration::from_secs(60)));
    }

    #[test]
    fn generators_follow_the_seed_and_the_order_they_are_asked_for() {
        let draw = |seed| {
            let time = Virtual::new(seed, Duration::ZERO);
            (time.rng().next_u64(), time.rng().next_u64())
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
        assert_ne!(draw(1).0, draw(1).1);
    }
}
