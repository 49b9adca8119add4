//! The epoch clock: advances the engines' epoch every [`TICK`] while any
//! step runs, so a step's deadline is checked without a thread per step.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances while a step runs; a step overruns its
/// deadline by at most about this much.
const TICK: Duration = Duration::from_millis(2);

/// Advances the engines' epoch every [`TICK`] while any step runs, and
/// sleeps otherwise.
pub(crate) struct Ticker {
    running: Arc<(Mutex<usize>, Condvar)>,
    engines: Arc<Mutex<Vec<Engine>>>,
}

pub(crate) struct Ticking(Arc<(Mutex<usize>, Condvar)>);

impl Ticker {
    pub(crate) fn start(engine: Engine) -> Ticker {
        let running = Arc::new((Mutex::new(0usize), Condvar::new()));
        let shared = Arc::clone(&running);
        let engines = Arc::new(Mutex::new(vec![engine]));
        let ticked = Arc::clone(&engines);
        std::thread::Builder::new()
            .name("runbox-epoch".into())
            .spawn(move || {
                let (count, wake) = &*shared;
                loop {
                    let guard = count.lock().unwrap_or_else(|p| p.into_inner());
                    let guard = wake.wait_while(guard, |n| *n == 0).unwrap_or_else(|p| p.into_inner());
                    drop(guard);
                    std::thread::sleep(TICK);
                    ticked.lock().unwrap_or_else(|p| p.into_inner()).iter().for_each(Engine::increment_epoch);
                }
            })
            .expect("the epoch thread starts");
        Ticker { running, engines }
    }

    /// Ticks `engine` too.
    pub(crate) fn also(&self, engine: Engine) {
        self.engines.lock().unwrap_or_else(|p| p.into_inner()).push(engine);
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
