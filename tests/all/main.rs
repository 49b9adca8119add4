#![allow(unreachable_pub)]

//! Black-box tests of the `runbox` binary, plus a few of the library's
//! public API. One test binary; each module covers one concern.

mod harness;

// Every sample runbook in runbooks/, run as a user would.
mod samples;
// What JavaScript steps see: console, get, fs, path, results, errors.
mod js_steps;
// JavaScript steps read a file a piece at a time, as Node scripts do.
mod js_files;
// Timers, Buffer, URL, Web Crypto, events, structuredClone, util, console.
mod js_web;
// JavaScript globals as Node 20 gives them, case by case.
mod node_exact;
// Intl on ICU4X against Node 20's answers, with the differences listed.
mod intl;
// Shell steps: bash's language, statuses, files, escapes, runaway scripts.
mod shell;
// The streaming text tools: GNU's output on big inputs, in bounded memory.
mod text_tools;
// getopt, expr, jq, zones and devices, as the host's; the native tier's hint.
mod shell_commands;
// Attempts to reach host files the sandbox does not grant.
mod escapes;
// Nothing a step does widens what was granted; runbox's state is never mounted.
mod integrity;
// What a runbook may use without asking, and the grants for the rest.
mod consent;
// Shell templates against the interpreter: values stay data in every context.
mod templates;
// Runaway guests: fuel, deadline, memory, output, promises, recursion.
mod runaway;
// A first run: baseline code at once, the optimised code compiled behind it.
mod first_run;
// curl and fetch: allowed hosts only, through the host.
mod net;
// YAML runbooks: typed inputs, safe templates, script sources, secrets.
mod yaml_runbooks;
// Malformed runbooks: every problem reported, with its line.
mod malformed;
// Sub-runbooks: runbook.call and the runbook builtin, recursion, grants, deadlines.
mod sub_runbooks;
// Deterministic mode: the same bytes and fuel anywhere, golden files, JUnit.
mod deterministic;
// The native tier: real interpreters, only when allowed, confined by the kernel.
mod native;
// Ctrl-C and SIGTERM: the step stops, the run is recorded, the scratch goes.
mod interrupt;
// History entries and the JSON record, including concurrent runs.
mod records;
// runbox serve: tokens, Required Claims, names, recursion, grants, concurrency.
mod api;
// `runbox serve`'s executions: ids, asynchronous answers, events, cancellation.
mod api_executions;
// `runbox serve` operated: metrics, readiness, request logs, correlation ids.
mod api_operating;
// `runbox serve --oidc-issuer`: an issuer on loopback, its keys rotated.
mod oidc;
// `runbox serve` exporting its spans to a collector (the `otel` feature).
#[cfg(feature = "otel")]
mod otel;
// Script sources through the Kubernetes API (the `kubernetes` feature).
#[cfg(feature = "kubernetes")]
mod kubernetes;
// `image_ref` steps as Jobs under the Kubernetes executor, against a stateful fake.
#[cfg(feature = "kubernetes")]
mod kubernetes_jobs;
// The record store: history as a query, servers sharing it, kill -9, retention.
mod store;
// The record store in a private PostgreSQL cluster.
mod postgres;
// The host's layers: folders import only downward, no file imports itself.
mod layers;
// The library's seams: approver, events, clock and ids, sub-runbooks.
mod seams;
// A CI log: lines per step, GitHub Actions, --quiet, colour, limits' hints.
mod ci_log;
// Whole outputs pinned by snapshots: validate, run --json, list, history.
mod snapshots;
// The JS guest run by another component host (jco on Node).
mod embedding;
// The JSON Schemas editors read: current, and every sample passes them.
mod schema;
