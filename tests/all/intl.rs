//! `Intl` and the locale-aware methods of the built-ins, on ICU4X: the table
//! in tests/all/node/intl-cases.js, answered by Node 20 (ICU 78, CLDR 48),
//! for the thirteen locales runbox is measured on. ICU4X and ICU4C read the
//! same CLDR but do not always write the same thing: each case where runbox
//! differs is listed below with why, so a new difference, or one that goes
//! away, fails here and docs/intl.md is brought up to date.

use crate::harness::Scratch;
use crate::node_exact::node_table;

const JPY: &str = "ICU4X writes the yen as `JP¥` where ICU4C writes `JPY` (fr, es, it, sv, pl)";
const USD: &str = "ICU4X writes the dollar as `US$` where ICU4C writes `USD` (it, pl)";
const ES_ORDINAL: &str =
    "ICU4X has Spanish ordinal rules (1.º, 3.er: `one` for 1, 3, 21, …); ICU4C says `other` for all";
const KOREAN: &str = "ICU4X's Korean patterns are `2026/12/5 오후 3:07`; ICU4C's `2026. 12. 5. PM 3:07`";
const POLISH_SHORT: &str = "ICU4X's Polish short date pads the day (`05.12.2026`); ICU4C's does not";

/// The cases runbox answers differently, and why.
const DIFFERENCES: &[(&str, &str)] = &[
    (r#"new Intl.NumberFormat('fr', { style: 'currency', currency: 'JPY' }).format(5000)"#, JPY),
    (r#"new Intl.NumberFormat('es', { style: 'currency', currency: 'JPY' }).format(5000)"#, JPY),
    (
        r#"[1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101].map((n) => new Intl.PluralRules('es', { type: 'ordinal' }).select(n)).join(' ')"#,
        ES_ORDINAL,
    ),
    (r#"new Intl.NumberFormat('it', { style: 'currency', currency: 'USD' }).format(-99.999)"#, USD),
    (r#"new Intl.NumberFormat('it', { style: 'currency', currency: 'JPY' }).format(5000)"#, JPY),
    (r#"new Intl.NumberFormat('sv', { style: 'currency', currency: 'JPY' }).format(5000)"#, JPY),
    (r#"new Intl.NumberFormat('pl', { style: 'currency', currency: 'USD' }).format(-99.999)"#, USD),
    (r#"new Intl.NumberFormat('pl', { style: 'currency', currency: 'JPY' }).format(5000)"#, JPY),
    (
        r#"new Intl.DateTimeFormat('pl', { dateStyle: 'short' }).format(new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)))"#,
        POLISH_SHORT,
    ),
    (r#"new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)).toLocaleString('ko')"#, KOREAN),
    (r#"new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)).toLocaleDateString('ko')"#, KOREAN),
    (r#"new Date(Date.UTC(2026, 0, 3, 3, 4, 5)).toLocaleTimeString('ko')"#, KOREAN),
    (
        r#"new Date(Date.UTC(2026, 0, 3, 3, 4, 5)).toLocaleDateString('ko', { year: 'numeric', month: '2-digit', day: '2-digit' })"#,
        KOREAN,
    ),
    (
        r#"new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)).toLocaleTimeString('ko', { hour: '2-digit', minute: '2-digit' })"#,
        KOREAN,
    ),
    (
        r#"new Intl.DateTimeFormat('ko', { dateStyle: 'medium' }).format(new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)))"#,
        KOREAN,
    ),
    (
        r#"new Intl.DateTimeFormat('ko', { dateStyle: 'short' }).format(new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)))"#,
        KOREAN,
    ),
    (
        r#"new Intl.DateTimeFormat('ko', { timeStyle: 'short' }).format(new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)))"#,
        KOREAN,
    ),
    (
        r#"new Intl.DateTimeFormat('ko', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)))"#,
        KOREAN,
    ),
    (r#"new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)).toLocaleString('ko', { timeZone: 'Europe/Berlin' })"#, KOREAN),
    (
        r#"new Date(Date.UTC(2026, 11, 5, 15, 7, 9, 45)).toLocaleTimeString('ko', { timeZone: 'America/New_York', hour: 'numeric', minute: '2-digit' })"#,
        KOREAN,
    ),
];

#[test]
fn intl_gives_what_node_20_gives_but_for_the_listed_differences() {
    let s = Scratch::new();
    let answers = node_table(&s, "intl-cases.js");
    let differing: Vec<_> = answers.iter().filter(|a| a.node != a.runbox).collect();
    let unexplained: Vec<String> = differing
        .iter()
        .filter(|a| !DIFFERENCES.iter().any(|(case, _)| *case == a.case))
        .map(|a| format!("{}\n  node:   {:?}\n  runbox: {:?}", a.case, a.node, a.runbox))
        .collect();
    let gone: Vec<&str> =
        DIFFERENCES.iter().map(|(case, _)| *case).filter(|case| !differing.iter().any(|a| a.case == *case)).collect();
    assert!(
        unexplained.is_empty(),
        "{} cases differ from Node unexplained:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    assert!(gone.is_empty(), "listed as differing, now the same as Node (update the list and docs/intl.md): {gone:?}");
    let matching = answers.len() - differing.len();
    assert!(matching * 100 >= answers.len() * 95, "{matching} of {} cases match Node: fewer than 95 %", answers.len());
}
