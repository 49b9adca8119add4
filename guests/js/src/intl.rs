//! The native half of `Intl`: ICU4X's formatters and collator, with the
//! CLDR data compiled in. The prelude (`intl.js`) reads a script's options
//! as ECMA-402 says and calls these with plain values; numbers are rounded
//! here, on their shortest decimal form, as ICU does for Node.

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

use fixed_decimal::{Decimal, FloatPrecision, SignDisplay, SignedRoundingMode, UnsignedRoundingMode};
use icu_collator::options::{AlternateHandling, CaseLevel, CollatorOptions, Strength};
use icu_collator::{Collator, CollatorBorrowed};
use icu_decimal::options::{DecimalFormatterOptions, GroupingStrategy};
use icu_decimal::{CompactDecimalFormatter, DecimalFormatter};
use icu_experimental::dimension::currency::CurrencyType;
use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
use icu_experimental::dimension::percent::formatter::PercentFormatter;
use icu_experimental::relativetime::options::Numeric;
use icu_experimental::relativetime::{RelativeTimeFormatter, RelativeTimeFormatterOptions};
use icu_list::ListFormatter;
use icu_list::options::{ListFormatterOptions, ListLength};
use icu_locale_core::Locale;
use icu_plurals::{PluralCategory, PluralRules};
use rquickjs::{Ctx, Exception, Function, Object};

pub(crate) fn register<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set("intlLocale", Function::new(ctx.clone(), canonical_locale)?)?;
    native.set("intlNumber", Function::new(ctx.clone(), format_number)?)?;
    native.set("intlPlural", Function::new(ctx.clone(), plural)?)?;
    native.set("intlList", Function::new(ctx.clone(), list)?)?;
    native.set("intlCompare", Function::new(ctx.clone(), compare)?)?;
    native.set("intlRelative", Function::new(ctx.clone(), relative)?)?;
    Ok(())
}

fn locale_of<'js>(ctx: &Ctx<'js>, tag: &str) -> rquickjs::Result<Locale> {
    Locale::try_from_str(tag).map_err(|_| range_error(ctx, &format!("Incorrect locale information provided: {tag}")))
}

/// A `RangeError` thrown with `message`, as ECMA-402 throws for bad options.
pub(crate) fn range_error<'js>(ctx: &Ctx<'js>, message: &str) -> rquickjs::Error {
    match Exception::from_message(ctx.clone(), message) {
        Ok(error) => {
            let _ = error.as_object().set("name", "RangeError");
            error.throw()
        }
        Err(e) => e,
    }
}

fn data_error<'js>(ctx: &Ctx<'js>, what: &str, e: impl std::fmt::Display) -> rquickjs::Error {
    range_error(ctx, &format!("Intl: no {what} data: {e}"))
}

/// The canonical form of a BCP 47 tag (`en-us` → `en-US`), or none when it
/// is not one.
fn canonical_locale(tag: String) -> Option<String> {
    Locale::try_from_str(&tag).ok().map(|l| l.to_string())
}

/// How a number is rounded and padded (ECMA-402's digit options).
struct Digits {
    min_integer: i16,
    min_fraction: i16,
    max_fraction: i16,
    /// Significant digits, when the script asked for them.
    significant: Option<(i16, i16)>,
}

fn half_expand() -> SignedRoundingMode {
    SignedRoundingMode::Unsigned(UnsignedRoundingMode::HalfExpand)
}

/// `x`'s shortest decimal form, rounded and padded as `digits` say.
fn rounded(x: f64, digits: &Digits) -> Option<Decimal> {
    let mut d = Decimal::try_from_f64(x, FloatPrecision::RoundTrip).ok()?;
    apply(&mut d, digits);
    Some(d)
}

fn apply(d: &mut Decimal, digits: &Digits) {
    match digits.significant {
        Some((min, max)) => {
            let top = d.absolute.nonzero_magnitude_start();
            d.round_with_mode(top - max + 1, half_expand());
            // Rounding may carry into a new leading digit (99.9 → 100).
            let top = d.absolute.nonzero_magnitude_start();
            d.absolute.trim_end();
            d.absolute.pad_end(top - min + 1);
        }
        None => {
            d.round_with_mode(-digits.max_fraction, half_expand());
            d.absolute.trim_end();
            d.absolute.pad_end(-digits.min_fraction);
        }
    }
    d.absolute.pad_start(digits.min_integer);
}

fn digits_of(options: &Object<'_>) -> rquickjs::Result<Digits> {
    let int = |name: &str, default: i16| -> rquickjs::Result<i16> {
        Ok(options.get::<_, Option<f64>>(name)?.map_or(default, |v| v.clamp(0.0, 100.0) as i16))
    };
    let significant = match options.get::<_, Option<f64>>("maximumSignificantDigits")? {
        Some(max) => Some((int("minimumSignificantDigits", 1)?, max.clamp(1.0, 21.0) as i16)),
        None => None,
    };
    Ok(Digits {
        min_integer: int("minimumIntegerDigits", 1)?,
        min_fraction: int("minimumFractionDigits", 0)?,
        max_fraction: int("maximumFractionDigits", 3)?,
        significant,
    })
}

fn grouping_of(name: &str) -> GroupingStrategy {
    match name {
        "always" => GroupingStrategy::Always,
        "min2" => GroupingStrategy::Min2,
        "false" | "never" => GroupingStrategy::Never,
        _ => GroupingStrategy::Auto,
    }
}

/// `x` formatted by `locale` as `options` (already resolved by the prelude:
/// style, currency, currencyDisplay, notation, compactDisplay, useGrouping
/// and the digit options) say. Not-a-number and infinities are the
/// prelude's.
fn format_number<'js>(
    ctx: Ctx<'js>,
    tag: String,
    x: f64,
    big: Option<String>,
    options: Object<'js>,
) -> rquickjs::Result<String> {
    let locale = locale_of(&ctx, &tag)?;
    let style: String = options.get::<_, Option<String>>("style")?.unwrap_or_else(|| "decimal".into());
    let notation: String = options.get::<_, Option<String>>("notation")?.unwrap_or_else(|| "standard".into());
    let grouping = grouping_of(&options.get::<_, Option<String>>("useGrouping")?.unwrap_or_default());
    let digits = digits_of(&options)?;
    let mut decimal_options = DecimalFormatterOptions::default();
    decimal_options.grouping_strategy = Some(grouping);
    let parsed = match &big {
        Some(text) => Decimal::from_str(text).ok(),
        None => Decimal::try_from_f64(x, FloatPrecision::RoundTrip).ok(),
    };
    let mut d = parsed.ok_or_else(|| range_error(&ctx, &format!("{x} cannot be formatted")))?;
    let sign_display = match options.get::<_, Option<String>>("signDisplay")?.as_deref() {
        Some("never") => SignDisplay::Never,
        Some("always") => SignDisplay::Always,
        Some("exceptZero") => SignDisplay::ExceptZero,
        Some("negative") => SignDisplay::Negative,
        _ => SignDisplay::Auto,
    };
    if style == "percent" {
        d.multiply_pow10(2);
    }
    if notation == "compact" {
        let long = options.get::<_, Option<String>>("compactDisplay")?.as_deref() == Some("long");
        let made = if long {
            CompactDecimalFormatter::try_new_long((&locale).into(), Default::default())
        } else {
            CompactDecimalFormatter::try_new_short((&locale).into(), Default::default())
        };
        let formatter = made.map_err(|e| data_error(&ctx, "compact number", e))?;
        // Compact notation rounds as CLDR says (`1.2K`, `123万`) unless told.
        if digits.significant.is_some() || options.get::<_, Option<f64>>("maximumFractionDigits")?.is_some() {
            apply_compact(&mut d, &digits);
        }
        d.apply_sign_display(sign_display);
        return Ok(formatter.format(&d).to_string());
    }
    match style.as_str() {
        "percent" => {
            apply(&mut d, &digits);
            d.apply_sign_display(sign_display);
            let decimal = DecimalFormatter::try_new((&locale).into(), decimal_options)
                .map_err(|e| data_error(&ctx, "number", e))?;
            let formatter =
                PercentFormatter::try_new_with_decimal_formatter((&locale).into(), decimal, Default::default())
                    .map_err(|e| data_error(&ctx, "percent", e))?;
            Ok(formatter.format(&d).to_string())
        }
        "currency" => {
            let code: String = options.get::<_, Option<String>>("currency")?.unwrap_or_default();
            let currency = CurrencyType::try_from_str(&code.to_ascii_lowercase())
                .map_err(|_| range_error(&ctx, &format!("Invalid currency code : {code}")))?;
            let display = options.get::<_, Option<String>>("currencyDisplay")?.unwrap_or_default();
            let made = match display.as_str() {
                "code" => CurrencyFormatter::try_new_code((&locale).into(), currency, Default::default()),
                "name" => CurrencyFormatter::try_new_name((&locale).into(), currency),
                "narrowSymbol" => {
                    CurrencyFormatter::try_new_symbol_narrow((&locale).into(), currency, Default::default())
                }
                _ => CurrencyFormatter::try_new_symbol((&locale).into(), currency, Default::default()),
            };
            let formatter = made.map_err(|e| data_error(&ctx, "currency", e))?;
            apply(&mut d, &digits);
            d.apply_sign_display(sign_display);
            let text = formatter.format_fixed_decimal(&d).to_string();
            // ICU4X rounds to the currency's own digits: where the script
            // asked for others, its number goes where ICU4X put its own.
            let own = options.get::<_, Option<f64>>("currencyDigits")?.unwrap_or(2.0) as i16;
            if digits.significant.is_none() && digits.min_fraction == own && digits.max_fraction == own {
                return Ok(text);
            }
            let decimal = DecimalFormatter::try_new((&locale).into(), decimal_options)
                .map_err(|e| data_error(&ctx, "number", e))?;
            let mut theirs = d.clone();
            theirs.absolute.trim_end();
            theirs.absolute.pad_end(-own);
            theirs.round_with_mode(-own, half_expand());
            theirs.apply_sign_display(SignDisplay::Never);
            let mut ours = d.clone();
            ours.apply_sign_display(SignDisplay::Never);
            Ok(text.replacen(&decimal.format(&theirs).to_string(), &decimal.format(&ours).to_string(), 1))
        }
        _ => {
            apply(&mut d, &digits);
            d.apply_sign_display(sign_display);
            let formatter = DecimalFormatter::try_new((&locale).into(), decimal_options)
                .map_err(|e| data_error(&ctx, "number", e))?;
            Ok(formatter.format(&d).to_string())
        }
    }
}

/// Compact notation rounds the shown part (`1.2` of `1.2K`), not the whole.
fn apply_compact(d: &mut Decimal, digits: &Digits) {
    let magnitude = d.absolute.nonzero_magnitude_start();
    let exponent = if magnitude >= 3 { magnitude / 3 * 3 } else { 0 };
    d.multiply_pow10(-exponent);
    apply(d, digits);
    d.multiply_pow10(exponent);
}

fn category_name(category: PluralCategory) -> &'static str {
    match category {
        PluralCategory::Zero => "zero",
        PluralCategory::One => "one",
        PluralCategory::Two => "two",
        PluralCategory::Few => "few",
        PluralCategory::Many => "many",
        PluralCategory::Other => "other",
    }
}

/// `Intl.PluralRules#select`: the category of `x` as it would be shown.
fn plural<'js>(ctx: Ctx<'js>, tag: String, ordinal: bool, x: f64, options: Object<'js>) -> rquickjs::Result<String> {
    let locale = locale_of(&ctx, &tag)?;
    let made = if ordinal {
        PluralRules::try_new_ordinal((&locale).into())
    } else {
        PluralRules::try_new_cardinal((&locale).into())
    };
    let rules = made.map_err(|e| data_error(&ctx, "plural", e))?;
    let digits = digits_of(&options)?;
    let d = rounded(x.abs(), &digits).unwrap_or_else(|| Decimal::from(0));
    Ok(category_name(rules.category_for(&d)).to_string())
}

/// `Intl.ListFormat#format`.
fn list<'js>(ctx: Ctx<'js>, tag: String, kind: String, style: String, items: Vec<String>) -> rquickjs::Result<String> {
    let locale = locale_of(&ctx, &tag)?;
    let length = match style.as_str() {
        "short" => ListLength::Short,
        "narrow" => ListLength::Narrow,
        _ => ListLength::Wide,
    };
    let options = ListFormatterOptions::default().with_length(length);
    let made = match kind.as_str() {
        "disjunction" => ListFormatter::try_new_or((&locale).into(), options),
        "unit" => ListFormatter::try_new_unit((&locale).into(), options),
        _ => ListFormatter::try_new_and((&locale).into(), options),
    };
    let formatter = made.map_err(|e| data_error(&ctx, "list", e))?;
    Ok(formatter.format(items.iter().map(String::as_str)).to_string())
}

thread_local! {
    /// Collators by locale and options: a sort compares many times.
    static COLLATORS: RefCell<HashMap<String, CollatorBorrowed<'static>>> = RefCell::new(HashMap::new());
}

/// `Intl.Collator#compare`: -1, 0 or 1. `tag` carries `-u-kn-…`/`-u-kf-…`
/// when the script asked for numeric ordering or a case first.
fn compare<'js>(
    ctx: Ctx<'js>,
    tag: String,
    sensitivity: String,
    ignore_punctuation: bool,
    a: String,
    b: String,
) -> rquickjs::Result<i32> {
    let key = format!("{tag}|{sensitivity}|{ignore_punctuation}");
    let found = COLLATORS.with(|c| c.borrow().get(&key).map(|c| c.compare(&a, &b)));
    let order = match found {
        Some(order) => order,
        None => {
            let locale = locale_of(&ctx, &tag)?;
            let mut options = CollatorOptions::default();
            options.strength = Some(match sensitivity.as_str() {
                "base" | "case" => Strength::Primary,
                "accent" => Strength::Secondary,
                _ => Strength::Tertiary,
            });
            if sensitivity == "case" {
                options.case_level = Some(CaseLevel::On);
            }
            if ignore_punctuation {
                options.alternate_handling = Some(AlternateHandling::Shifted);
            }
            let collator =
                Collator::try_new((&locale).into(), options).map_err(|e| data_error(&ctx, "collation", e))?;
            let order = collator.compare(&a, &b);
            COLLATORS.with(|c| {
                let mut c = c.borrow_mut();
                if c.len() > 64 {
                    c.clear();
                }
                c.insert(key, collator);
            });
            order
        }
    };
    Ok(order as i32)
}

/// `Intl.RelativeTimeFormat#format`: `value` `unit`s from now.
fn relative<'js>(
    ctx: Ctx<'js>,
    tag: String,
    value: f64,
    unit: String,
    style: String,
    numeric: String,
) -> rquickjs::Result<String> {
    let locale = locale_of(&ctx, &tag)?;
    let prefs = (&locale).into();
    let mut options = RelativeTimeFormatterOptions::default();
    options.numeric = Some(if numeric == "auto" { Numeric::Auto } else { Numeric::Always });
    macro_rules! pick {
        ($($unit:literal => $long:ident, $short:ident, $narrow:ident;)*) => {
            match (unit.as_str(), style.as_str()) {
                $(
                    ($unit, "short") => RelativeTimeFormatter::$short(prefs, options),
                    ($unit, "narrow") => RelativeTimeFormatter::$narrow(prefs, options),
                    ($unit, _) => RelativeTimeFormatter::$long(prefs, options),
                )*
                _ => return Err(range_error(&ctx, &format!("Invalid unit argument for format() '{unit}'"))),
            }
        };
    }
    let made = pick! {
        "second" => try_new_long_second, try_new_short_second, try_new_narrow_second;
        "minute" => try_new_long_minute, try_new_short_minute, try_new_narrow_minute;
        "hour" => try_new_long_hour, try_new_short_hour, try_new_narrow_hour;
        "day" => try_new_long_day, try_new_short_day, try_new_narrow_day;
        "week" => try_new_long_week, try_new_short_week, try_new_narrow_week;
        "month" => try_new_long_month, try_new_short_month, try_new_narrow_month;
        "quarter" => try_new_long_quarter, try_new_short_quarter, try_new_narrow_quarter;
        "year" => try_new_long_year, try_new_short_year, try_new_narrow_year;
    };
    let formatter = made.map_err(|e| data_error(&ctx, "relative time", e))?;
    let d = Decimal::try_from_f64(value, FloatPrecision::RoundTrip)
        .or_else(|_| Decimal::from_str("0"))
        .map_err(|_| range_error(&ctx, "Invalid number"))?;
    Ok(formatter.format(d).to_string())
}
