//! What one run and all the sub-runbooks it calls may spend together: how
//! many child executions, and how many bytes their records take in the log.
//! One tree is shared by a run's whole chain (under `serve`, a request's),
//! so fan-out (each runbook calling the next twice, thirty deep) ends at
//! these bounds, with an error the calling step sees and its record keeps,
//! instead of filling the disk.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::error::{ErrorCode, Failure};

/// Child executions a run's tree may make unless configured otherwise.
pub const MAX_SUB_RUNBOOKS: usize = 1000;
/// Bytes of records a run's tree may log unless configured otherwise: a
/// run's record holds at most about twice its 8 MiB output budget, so this
/// is some four loud runs; and half the log's rotation size, so that one
/// run cannot rotate the records of the runs before it out of the log.
pub const MAX_TREE_LOG: u64 = 64 << 20;

/// The counts of one tree.
#[derive(Debug)]
pub struct Tree {
    executions: AtomicUsize,
    logged: AtomicU64,
    max_executions: usize,
    max_logged: u64,
}

impl Tree {
    pub fn new(max_executions: usize, max_logged: u64) -> Tree {
        Tree { executions: AtomicUsize::new(0), logged: AtomicU64::new(0), max_executions, max_logged }
    }

    /// Counts one more child execution, or says why the tree may make none.
    pub fn enter_child(&self) -> Result<(), Failure> {
        let logged = self.logged.load(Ordering::Relaxed);
        if logged >= self.max_logged {
            return Err(Failure::new(
                ErrorCode::TreeLimit,
                format!(
                    "this run's sub-runbooks have logged {logged} bytes of records, its limit (--max-tree-log {})",
                    self.max_logged
                ),
            ));
        }
        let made = self.executions.fetch_add(1, Ordering::Relaxed);
        if made >= self.max_executions {
            return Err(Failure::new(
                ErrorCode::TreeLimit,
                format!(
                    "this run has made {} sub-runbook executions, its limit (--max-sub-runbooks {})",
                    self.max_executions, self.max_executions
                ),
            ));
        }
        Ok(())
    }

    /// Counts the bytes of a record logged by a run of the tree.
    pub fn logged(&self, bytes: usize) {
        self.logged.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}
