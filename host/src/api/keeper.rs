//! What a server does with the record store besides answering requests: it
//! beats (so other servers know it is alive), ends the executions of servers
//! that died, applies the retention, cancels its executions when a caller
//! asked another server to, and keeps the events of executions that run
//! longer than a moment while other servers share the store, so that their
//! followers see them live.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::shared::Shared;
use crate::store::{CANCEL_POLL, HEARTBEAT, Live, StoreError};

/// The retention is applied every this many heartbeats.
const PRUNE_EVERY: u32 = 12;

/// An execution's events are kept in the store while it runs once it has
/// run this long (most end sooner, and their events go with their record).
const LIVE_AFTER: time::Duration = time::Duration::seconds(1);

/// At start, before any request: the server's first beat, and the end of
/// the executions of servers that are gone (a store that cannot be reached
/// is an error naming it).
/// Returns how many executions it marked interrupted.
pub(super) fn start(shared: &Shared) -> anyhow::Result<usize> {
    Ok(beat(shared, true)?)
}

/// One heartbeat: this server is alive, the dead ones' executions end, and
/// (when `prune`) finished executions past the retention go.
fn beat(shared: &Shared, prune: bool) -> Result<usize, StoreError> {
    shared.store.beat(&shared.replica)?;
    let ended = shared.store.sweep(&shared.replica, shared.config.lapse)?;
    let others = shared.store.others(&shared.replica)?;
    shared.others_share.store(others > 0, Ordering::Relaxed);
    let retention = shared.config.retention;
    if prune && (retention.per_runbook.is_some() || retention.max_age_secs.is_some()) {
        let gone = shared.store.prune(retention)?;
        tracing::info!("the retention removed {gone} execution(s) from the store");
    }
    Ok(ended)
}

/// Writes the new events of this server's executions that have run for
/// [`LIVE_AFTER`], all in one write, while other servers share the store
/// (one that starts meanwhile gets them all within a heartbeat).
fn keep_live(shared: &Shared) {
    if !shared.others_share.load(Ordering::Relaxed) {
        return;
    }
    let now = time::OffsetDateTime::now_utc();
    let mut live = Vec::new();
    let mut logs = Vec::new();
    for execution in shared.executions.running() {
        if now - execution.started_at < LIVE_AFTER {
            continue;
        }
        if let Some((first, events)) = execution.events.unstored() {
            logs.push((Arc::clone(&execution.events), first + events.len() as u64 - 1));
            live.push(Live { id: execution.id.clone(), first, events });
        }
    }
    if live.is_empty() {
        return;
    }
    match shared.store.live(live) {
        Ok(()) => logs.into_iter().for_each(|(log, until)| log.stored_until(until)),
        Err(e) => tracing::debug!("{e}"),
    }
}

/// Says that `ended` executions of servers that stopped were ended.
pub(super) fn say_ended(ended: usize) {
    if ended > 0 {
        tracing::warn!("marked {ended} execution(s) of servers that stopped beating as interrupted");
    }
}

/// Runs for the server's life, on blocking threads so no request waits.
pub(super) async fn keep(shared: Arc<Shared>) {
    let polls_per_beat = u32::try_from(HEARTBEAT.as_millis() / CANCEL_POLL.as_millis()).unwrap_or(1).max(1);
    let mut ticks: u32 = 0;
    let mut interval = tokio::time::interval(CANCEL_POLL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        ticks = ticks.wrapping_add(1);
        let shared = Arc::clone(&shared);
        let beat_now = ticks.is_multiple_of(polls_per_beat);
        let prune = ticks.is_multiple_of(polls_per_beat * PRUNE_EVERY);
        let _ = tokio::task::spawn_blocking(move || {
            if beat_now {
                let result = beat(&shared, prune);
                match &result {
                    Ok(ended) => say_ended(*ended),
                    Err(e) => tracing::error!("{e}"),
                }
                shared.store_alive.store(result.is_ok(), Ordering::Relaxed);
            }
            keep_live(&shared);
            match shared.store.cancels(&shared.replica) {
                Ok(asked) => {
                    for (id, by) in asked {
                        if let Some(execution) = shared.executions.get(&id) {
                            execution.cancel.cancel_by(&by);
                        }
                    }
                }
                Err(e) => tracing::debug!("{e}"),
            }
        })
        .await;
    }
}
