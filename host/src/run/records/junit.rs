//! A run as a JUnit XML report (`runbox run --junit FILE`), the format
//! GitLab, Jenkins and GitHub test reporters read: the runbook is a test
//! suite and each of its steps a test case, with its time, its output, and
//! for a failed step a `<failure>` whose type is runbox's error code. Steps
//! that did not run are `<skipped>`, saying why; a run refused before any
//! step is one `<error>` case.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::report::{RunReport, StepReport};
use crate::model::Step;

/// `report` as JUnit XML: the run of a runbook whose steps are `steps`
/// (none for a runbook that did not even parse).
pub fn junit(steps: &[Step], report: &RunReport) -> anyhow::Result<String> {
    let file = crate::model::file_name(std::path::Path::new(&report.file));
    let mut suite = TestSuite::new(file.as_str());
    suite.set_time(Duration::from_millis(u64::try_from(report.duration_ms).unwrap_or(u64::MAX)));
    let mut cases = Vec::new();
    if let Some(refusal) = report.error.as_ref().filter(|_| report.steps.is_empty()) {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_type(refusal.code.as_str()).set_message(refusal.message.as_str());
        cases.push(TestCase::new(format!("{file} (refused)"), status));
    }
    for (i, step) in steps.iter().enumerate() {
        cases.push(match report.steps.get(i) {
            Some(ran) => ran_case(ran),
            None => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(match &report.error {
                    Some(refusal) => format!("not run: the run was refused ({})", refusal.code),
                    None => "not run: an earlier step failed".to_string(),
                });
                TestCase::new(step.name.as_str(), status)
            }
        });
    }
    for mut case in cases {
        case.set_classname(report.runbook.as_str());
        suite.add_test_case(case);
    }
    let mut junit = Report::new("runbox");
    junit.add_test_suite(suite);
    Ok(junit.to_string()?)
}

fn ran_case(step: &StepReport) -> TestCase {
    let status = if step.exit_code == 0 {
        TestCaseStatus::success()
    } else {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        match &step.error {
            Some(error) => status.set_type(error.code.as_str()).set_message(error.message.as_str()),
            None => status.set_type("CommandFailed").set_message(format!("exit status {}", step.exit_code)),
        };
        status.set_description(format!("exit status {}", step.exit_code));
        status
    };
    let mut case = TestCase::new(step.name.as_str(), status);
    case.set_time(Duration::from_secs_f64(step.duration_ms.max(0.0) / 1000.0));
    case.set_system_out(step.stdout.as_str()).set_system_err(step.stderr.as_str());
    case
}
