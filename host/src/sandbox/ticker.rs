//! The epoch clock: advances the engine's epoch every [`TICK`] while any step
//! runs, so a step's deadline is checked without a thread per step.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances while a step runs; a step overruns its
/// deadline by at most about this much.
const TICK: Duration = Duration::from_millis(2);

/// Advances the engine's epoch every [`TICK`] while any step runs, and
/// sleeps otherwise.
pub(crate) struct Ticker {
    running: Arc<(Mutex<usize>, Condvar)>,
}

pub(crate) struct Ticking(Arc<(Mutex<usize>, Condvar)>);

impl Ticker {
    pub(crate) fn start(engine: Engine) -> Ticker {
        let running = Arc::new((Mutex::new(0usize), Condvar::new()));
        let shared = Arc::clone(&running);
        std::thread::Builder::new()
            .name("runbox-epoch".into())
            .spawn(move || {
                let (count, wake) = &*shared;
                loop {
                    let guard = count.lock().unwrap_or_else(|p| p.into_inner());
                    let guard = wake.wait_while(guard, |n| *n == 0).unwrap_or_else(|p| p.into_inner());
                    drop(guard);
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })
            .expect("the epoch thread starts");
        Ticker { running }
    }

    pub(crate) fn run(&self) -> Ticking {
        let (count, wake) = &*self.running;
        *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        wake.notify_all();
        Ticking(Arc::clone(&self.running))
    }
}

impl Drop for Ticking {
    fn drop(&mut self) {
        *self.0.0.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
    }
}
