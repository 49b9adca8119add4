//! gawk's orders of an array: `PROCINFO["sorted_in"]` for `for (k in a)`,
//! and `asort`/`asorti`'s third argument (`@ind_str_asc`, `@val_num_desc`,
//! …), compared as gawk compares them.

use std::cmp::Ordering;

use super::value::{Value, leading_number, looks_numeric};

#[derive(Clone, Copy)]
enum By {
    IndexStr,
    IndexNum,
    ValueType,
    ValueStr,
    ValueNum,
}

#[derive(Clone, Copy)]
pub(super) struct Order {
    by: By,
    descending: bool,
}

impl Order {
    /// The order a name gives; `None` for a name that is none of gawk's.
    pub(super) fn named(name: &str) -> Option<Order> {
        let (by, descending) = match name {
            "@ind_str_asc" => (By::IndexStr, false),
            "@ind_str_desc" => (By::IndexStr, true),
            "@ind_num_asc" => (By::IndexNum, false),
            "@ind_num_desc" => (By::IndexNum, true),
            "@val_type_asc" => (By::ValueType, false),
            "@val_type_desc" => (By::ValueType, true),
            "@val_str_asc" => (By::ValueStr, false),
            "@val_str_desc" => (By::ValueStr, true),
            "@val_num_asc" => (By::ValueNum, false),
            "@val_num_desc" => (By::ValueNum, true),
            _ => return None,
        };
        Some(Order { by, descending })
    }

    /// Two entries of an array, `(index, value)`.
    pub(super) fn compare(&self, a: (&str, &Value), b: (&str, &Value), convfmt: &str) -> Ordering {
        let order = match self.by {
            By::IndexStr => a.0.cmp(b.0),
            By::IndexNum => leading_number(a.0).total_cmp(&leading_number(b.0)).then_with(|| a.0.cmp(b.0)),
            By::ValueType => by_type(a.1, b.1, convfmt),
            By::ValueStr => a.1.text(convfmt).cmp(&b.1.text(convfmt)),
            // Equal numbers are ordered by their text, as gawk does.
            By::ValueNum => a.1.num().total_cmp(&b.1.num()).then_with(|| a.1.text(convfmt).cmp(&b.1.text(convfmt))),
        };
        // Ties fall back to the indices, so that the order is total.
        let order = order.then_with(|| a.0.cmp(b.0));
        if self.descending { order.reverse() } else { order }
    }

    /// Two values alone (`asort`, `asorti`): an index order reads each
    /// value as an index.
    pub(super) fn compare_values(&self, a: &Value, b: &Value, convfmt: &str) -> Ordering {
        let (ta, tb) = (a.text(convfmt), b.text(convfmt));
        let order = match self.by {
            By::IndexStr => ta.cmp(&tb),
            By::IndexNum => leading_number(&ta).total_cmp(&leading_number(&tb)).then_with(|| ta.cmp(&tb)),
            By::ValueType => by_type(a, b, convfmt),
            By::ValueStr => ta.cmp(&tb),
            By::ValueNum => a.num().total_cmp(&b.num()).then_with(|| ta.cmp(&tb)),
        };
        if self.descending { order.reverse() } else { order }
    }
}

/// Numbers (and input that looks like one) before strings; numbers by
/// value, strings by text.
fn by_type(a: &Value, b: &Value, convfmt: &str) -> Ordering {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.text(convfmt).cmp(&b.text(convfmt)),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Uninit => Some(0.0),
        Value::Num(n) => Some(*n),
        Value::StrNum(s) => looks_numeric(s),
        Value::Str(_) => None,
    }
}
