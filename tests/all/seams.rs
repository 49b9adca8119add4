//! runbox as a library: the seams a front end plugs into the runner (who
//! approves, who watches, the clock and ids) and the sub-runbooks it hands
//! each step.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runbox::error::{ErrorCode, Failure};
use runbox::model::{Runbook, Step};
use runbox::plan::consent::{Ask, ConsentStore};
use runbox::run::seams::approve::{Approved, Approver, ConsentAnswer, StepApproval};
use runbox::run::seams::clock::Fixed;
use runbox::run::seams::events::Events;
use runbox::run::{Chain, MAX_RECURSION_DEPTH};
use runbox::sandbox::Call;
use runbox::{Config, GuestCache, Runner, Seams, StepReport, Stream, parse};

use crate::harness::{Scratch, history_headings, runbook};

/// Everything the runner told it, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Events for Recorder {
    fn step_started(&self, step: &Step) {
        self.0.lock().unwrap().push(format!("started {}", step.name));
    }
    fn output(&self, stream: Stream, bytes: &[u8]) {
        self.0.lock().unwrap().push(format!("{stream:?} {}", String::from_utf8_lossy(bytes)));
    }
    fn step_finished(&self, step: &Step, report: &StepReport) {
        self.0.lock().unwrap().push(format!("finished {} {}", step.name, report.exit_code));
    }
    fn step_refused(&self, step: &Step, failure: &Failure) {
        self.0.lock().unwrap().push(format!("refused {} {}", step.name, failure.code));
    }
}

/// Approves the steps it is told to, and saw what it was asked.
struct Policy {
    approve: &'static str,
    asked: Mutex<Vec<String>>,
}

impl Approver for Policy {
    fn consent(&self, _: &Runbook, _: &[Ask]) -> ConsentAnswer {
        ConsentAnswer { granted: false, always: false, how: "policy" }
    }
    fn approve(&self, request: &StepApproval<'_>) -> Approved {
        self.asked.lock().unwrap().push(format!("{}: {}", request.step.name, request.script.trim()));
        Approved { approved: request.step.name == self.approve, how: "policy" }
    }
}

fn config(s: &Scratch) -> Config {
    Config {
        cache: GuestCache::at(crate::harness::cache_dir()),
        consent: ConsentStore::at(s.state.path().join("consent")),
        log: None,
        ..Config::default()
    }
}

#[test]
fn the_runner_asks_its_approver_tells_its_events_and_reads_its_clock() {
    let s = Scratch::new();
    let yaml = "name: Gated\nsteps:\n  - name: first\n    type: sh\n    approval_required: true\n    with: { inline_script: echo one }\n  - name: second\n    type: sh\n    approval_required: true\n    with: { inline_script: echo two }\n";
    let path = s.write("gated.yaml", yaml);
    let events = Arc::new(Recorder::default());
    let policy = Arc::new(Policy { approve: "first", asked: Mutex::default() });
    let at = time::macros::datetime!(2026-01-02 03:04:05 UTC);
    let fixed = Arc::new(Fixed { at, correlation_id: "corr-1".into(), user: "ada".into() });
    let seams = Seams {
        approver: policy.clone(),
        events: events.clone(),
        clock: fixed.clone(),
        caller: fixed,
        ..Seams::default()
    };
    let runner = Runner::with_seams(config(&s), seams).unwrap();
    let report = runner.run(&parse::load(&path).unwrap(), &Default::default());

    assert_eq!(report.exit_code, 77);
    assert_eq!(report.correlation_id, "corr-1");
    assert_eq!(*policy.asked.lock().unwrap(), ["first: echo one", "second: echo two"]);
    assert_eq!(
        *events.0.lock().unwrap(),
        ["started first", "Stdout one\n", "finished first 0", "refused second ApprovalRequired"]
    );
    let approval = report.steps[0].approval.as_ref().unwrap();
    assert_eq!((approval.approved, approval.how, approval.by_user.as_str()), (true, "policy", "ada"));
    // A markdown runbook's History entry takes the clock's time.
    let path = s.write("Plain.md", &runbook("Plain", "", &[], &[], "```sh\necho hi\n```"));
    assert_eq!(runner.run(&parse::load(&path).unwrap(), &Default::default()).exit_code, 0);
    assert_eq!(history_headings(&s.read("Plain.md")), ["### 2026-01-02T03:04:05.000Z | Exit Code: 0"]);
}

#[test]
fn a_sub_runbook_runs_beside_its_parent_within_the_calling_step() {
    let s = Scratch::new();
    let parent = s.write("Parent.md", &runbook("Parent", "", &[], &[], "```js\nreturn 1\n```"));
    s.write(
        "Child.md",
        &runbook("Child", "GREETING: who", &[], &[], "```js\nconsole.log('hi ' + get('GREETING')); return 42\n```"),
    );
    s.write("Slow.md", &runbook("Slow", "", &[], &[], "```sh\nsleep 100\n```"));
    let runner = Runner::new(Config { history: false, ..config(&s) }).unwrap();
    let parent = parse::load(&parent).unwrap();
    let chain = Chain { stack: vec!["Parent.md".to_string()], correlation_id: "corr-2".into() };
    let calls = runner.sub_runbooks(&parent, &chain);
    let call = |name: &str, within: Duration| Call {
        runbook: name.into(),
        env: vec![("GREETING".into(), "child".into())],
        inputs: Default::default(),
        deadline: Instant::now() + within,
    };

    let called = calls.call(call("Child.md", Duration::from_secs(30))).unwrap();
    assert_eq!((called.exit_code, called.stdout.as_str(), called.result), (0, "hi child\n", Some(42.into())));

    // The child's steps end with the step that called it.
    let slow = calls.call(call("Slow.md", Duration::from_millis(300))).unwrap();
    assert_eq!(slow.exit_code, 124, "{}", slow.stderr);

    for name in ["../Child.md", "/etc/passwd", ".hidden.md", "sub/Child.md", ""] {
        let refused = calls.call(call(name, Duration::from_secs(30))).unwrap_err();
        assert_eq!(refused.code, ErrorCode::ConfigInvalid, "{name}: {refused}");
    }
    let late = calls.call(call("Child.md", Duration::ZERO)).unwrap_err();
    assert_eq!(late.code, ErrorCode::Timeout);
}

#[test]
fn a_sub_runbook_already_in_the_chain_or_too_deep_is_refused() {
    let s = Scratch::new();
    let child = s.write("Child.md", &runbook("Child", "", &[], &[], "```js\nreturn 1\n```"));
    let runner = Runner::new(Config { history: false, ..config(&s) }).unwrap();
    let child = parse::load(&child).unwrap();
    let call = || Call {
        runbook: "Child.md".into(),
        env: Vec::new(),
        inputs: Default::default(),
        deadline: Instant::now() + Duration::from_secs(30),
    };
    let chain = |stack: Vec<String>| Chain { stack, correlation_id: "corr-3".into() };

    let looped = chain(vec!["Top.md".into(), "Child.md".into()]);
    let refused = runner.sub_runbooks(&child, &looped).call(call()).unwrap_err();
    assert_eq!(refused.code, ErrorCode::RecursionDetected);
    assert_eq!(
        refused.message,
        r#"Recursion detected: Runbook Child.md already in execution chain: ["Top.md", "Child.md"]"#
    );

    // A stack of exactly the limit runs; one more is refused.
    let names = |n: usize| chain((0..n).map(|i| format!("R{i}.md")).collect());
    let ran = runner.sub_runbooks(&child, &names(MAX_RECURSION_DEPTH - 1)).call(call()).unwrap();
    assert_eq!(ran.exit_code, 0);
    let deep = runner.sub_runbooks(&child, &names(MAX_RECURSION_DEPTH)).call(call()).unwrap_err();
    assert_eq!(deep.code, ErrorCode::RecursionDepthExceeded);
    assert_eq!(deep.message, format!("Recursion depth limit exceeded: 51 (max: {MAX_RECURSION_DEPTH})"));
}
