//! Warm instances, for a process that runs many steps at once (a server).
//! A fresh instance maps its memory from the compiled guest's image copy on
//! write, and each page the guest first writes is a fault that, in a process
//! whose threads run on several cores, flushes every core's TLB: under load
//! a server spent three quarters of its time in the kernel on those faults.
//! A pool of slots keeps each slot's memory mapped between steps and resets
//! only the pages a step wrote, in place (up to [`KEEP_RESIDENT`] of them;
//! the rest are released), so the next step's writes fault nothing.
//!
//! The pool holds as many instances as the process runs steps at once
//! ([`Warm::new`]); a step past it (a sub-runbook's, say) runs on an engine
//! of its own that maps fresh memory as every step of a one-off run does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::{Config, Enabled, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Bytes of a slot's memory kept mapped and reset in place between steps:
/// more than a trivial step writes. What a step wrote past it is released.
pub(crate) const KEEP_RESIDENT: usize = 16 << 20;

/// The most slots a pool has: each reserves (not commits) a 4 GiB memory's
/// address space and its guard, as an instance on demand does while it runs.
pub(crate) const MAX_SLOTS: usize = 1024;

/// Core instances, memories and tables one guest's component may have, as
/// the guests are built (the pool reserves this much per slot). A guest that
/// needs more does not load in a server, which says which it exceeds: every
/// API test would fail.
const CORE_INSTANCES_PER_GUEST: u32 = 3;
const MEMORIES_PER_GUEST: u32 = 1;
const TABLES_PER_GUEST: u32 = 2;

/// A pool's size and how many of its slots are taken.
pub(crate) struct Warm {
    slots: usize,
    taken: Arc<AtomicUsize>,
}

/// A slot of the pool, held for as long as the step's store lives.
pub(crate) struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Warm {
    /// A pool of `slots` instances (at most [`MAX_SLOTS`]); none for 0.
    pub(crate) fn new(slots: usize) -> Option<Warm> {
        (slots > 0).then(|| Warm { slots: slots.min(MAX_SLOTS), taken: Arc::default() })
    }

    /// Makes `config`'s engine allocate instances from this pool.
    pub(crate) fn configure(&self, config: &mut Config) {
        let slots = u32::try_from(self.slots).unwrap_or(u32::MAX);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(slots)
            .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_GUEST))
            .max_core_instances_per_component(CORE_INSTANCES_PER_GUEST)
            .total_memories(slots.saturating_mul(MEMORIES_PER_GUEST))
            .max_memories_per_component(MEMORIES_PER_GUEST)
            .total_tables(slots.saturating_mul(TABLES_PER_GUEST))
            .max_tables_per_component(TABLES_PER_GUEST)
            // A step's memory cap is the limiter's to enforce, up to what
            // 32-bit memory addresses.
            .max_memory_size(4 << 30)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(1 << 20)
            // Reset only the pages a step wrote (Linux 6.7's PAGEMAP_SCAN,
            // where the kernel has it).
            .pagemap_scan(Enabled::Auto)
            // Reuse the slots last used rather than warm new ones: the
            // memory kept is that of the steps run at once, not of the pool.
            .max_unused_warm_slots(0);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }

    /// A slot, if one is free.
    pub(crate) fn take(&self) -> Option<Slot> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.slots).then_some(n + 1))
            .ok()
            .map(|_| Slot(Arc::clone(&self.taken)))
    }
}
