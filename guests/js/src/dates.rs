//! The native half of `Intl.DateTimeFormat` and of `Date`'s locale methods:
//! an instant is placed in its time zone by jiff (the IANA database is
//! compiled in: a sandbox has no /usr/share/zoneinfo) and written by ICU4X
//! from an ECMA-402 options bag, which its `DateTimeFieldBag` mirrors.

use icu_datetime::DateTimeFormatter;
use icu_datetime::fieldbag::DateTimeFieldBag;
use icu_datetime::fieldbag::field::{
    Day, Era, FractionalSecondDigits, Hour, Minute, Month, Second, TimeZoneName, Weekday, Year,
};
use icu_datetime::fieldsets::enums::CompositeFieldSet;
use icu_locale_core::Locale;
use rquickjs::{Ctx, Function, Object};
use writeable::{Part, PartsWrite, Writeable};

use crate::intl::range_error;

pub(crate) fn register<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set("intlDateParts", Function::new(ctx.clone(), format_date_parts)?)?;
    native.set("intlZone", Function::new(ctx.clone(), canonical_zone)?)?;
    Ok(())
}

/// The IANA name of `zone` as the database spells it (`europe/berlin` →
/// `Europe/Berlin`, `utc` → `UTC`), or none when there is no such zone.
fn canonical_zone(zone: String) -> Option<String> {
    if zone.eq_ignore_ascii_case("utc") || zone.eq_ignore_ascii_case("etc/utc") || zone.eq_ignore_ascii_case("gmt") {
        return Some("UTC".to_string());
    }
    let tz = jiff::tz::db().get(&zone).ok()?;
    tz.iana_name().map(str::to_string)
}

fn text<'js>(bag: &Object<'js>, name: &str) -> rquickjs::Result<Option<String>> {
    bag.get::<_, Option<String>>(name)
}

/// The ECMA-402 options the prelude resolved, as ICU4X's field bag.
fn field_bag(bag: &Object<'_>) -> rquickjs::Result<DateTimeFieldBag> {
    let mut b = DateTimeFieldBag::default();
    b.era = text(bag, "era")?.and_then(|v| match v.as_str() {
        "short" => Some(Era::Short),
        "long" => Some(Era::Long),
        "narrow" => Some(Era::Narrow),
        _ => None,
    });
    b.year = text(bag, "year")?.map(|v| if v == "2-digit" { Year::TwoDigit } else { Year::Numeric });
    b.month = text(bag, "month")?.and_then(|v| match v.as_str() {
        "numeric" => Some(Month::Numeric),
        "2-digit" => Some(Month::TwoDigit),
        "short" => Some(Month::Short),
        "long" => Some(Month::Long),
        "narrow" => Some(Month::Narrow),
        _ => None,
    });
    b.day = text(bag, "day")?.map(|v| if v == "2-digit" { Day::TwoDigit } else { Day::Numeric });
    b.weekday = text(bag, "weekday")?.and_then(|v| match v.as_str() {
        "short" => Some(Weekday::Short),
        "long" => Some(Weekday::Long),
        "narrow" => Some(Weekday::Narrow),
        _ => None,
    });
    b.hour = text(bag, "hour")?.map(|v| if v == "2-digit" { Hour::TwoDigit } else { Hour::Numeric });
    b.minute = text(bag, "minute")?.map(|v| if v == "2-digit" { Minute::TwoDigit } else { Minute::Numeric });
    b.second = text(bag, "second")?.map(|v| if v == "2-digit" { Second::TwoDigit } else { Second::Numeric });
    b.fractional_second_digits = bag.get::<_, Option<f64>>("fractionalSecondDigits")?.and_then(|v| match v as u8 {
        1 => Some(FractionalSecondDigits::F1),
        2 => Some(FractionalSecondDigits::F2),
        3 => Some(FractionalSecondDigits::F3),
        _ => None,
    });
    b.time_zone_name = text(bag, "timeZoneName")?.and_then(|v| match v.as_str() {
        "short" => Some(TimeZoneName::ShortSpecific),
        "long" => Some(TimeZoneName::LongSpecific),
        "shortOffset" => Some(TimeZoneName::ShortOffset),
        "longOffset" => Some(TimeZoneName::LongOffset),
        "shortGeneric" => Some(TimeZoneName::ShortGeneric),
        "longGeneric" => Some(TimeZoneName::LongGeneric),
        _ => None,
    });
    Ok(b)
}

/// The instant, its zone and the formatter the options ask for.
fn prepare<'js>(
    ctx: &Ctx<'js>,
    tag: &str,
    epoch_ms: f64,
    zone: &str,
    bag: &Object<'js>,
) -> rquickjs::Result<(jiff::Zoned, DateTimeFormatter<CompositeFieldSet>)> {
    let locale = Locale::try_from_str(tag)
        .map_err(|_| range_error(ctx, &format!("Incorrect locale information provided: {tag}")))?;
    let tz = jiff::tz::db().get(zone).map_err(|_| range_error(ctx, &format!("Invalid time zone specified: {zone}")))?;
    let at = jiff::Timestamp::from_millisecond(epoch_ms as i64).map_err(|_| range_error(ctx, "Invalid time value"))?;
    let fields = field_bag(bag)?.to_composite_field_set();
    let formatter = DateTimeFormatter::try_new((&locale).into(), fields)
        .map_err(|e| range_error(ctx, &format!("Intl.DateTimeFormat: {e}")))?;
    Ok((at.to_zoned(tz), formatter))
}

/// Collects the text ICU4X writes with the part each piece belongs to.
struct Parts {
    out: Vec<(String, String)>,
    current: Vec<&'static str>,
}

impl std::fmt::Write for Parts {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let kind = self.current.iter().rev().copied().find(|k| !k.is_empty()).unwrap_or("literal");
        match self.out.last_mut() {
            Some((last, text)) if last == kind && kind == "literal" => text.push_str(s),
            _ => self.out.push((kind.to_string(), s.to_string())),
        }
        Ok(())
    }
}

impl PartsWrite for Parts {
    type SubPartsWrite = Self;
    fn with_part(
        &mut self,
        part: Part,
        mut f: impl FnMut(&mut Self::SubPartsWrite) -> std::fmt::Result,
    ) -> std::fmt::Result {
        self.current.push(part_name(part));
        let before = self.out.len();
        let result = f(self);
        self.current.pop();
        // One part per field, however many pieces ICU4X wrote it in.
        let name = part_name(part);
        if !name.is_empty() && self.out.len() > before + 1 {
            let joined: String = self.out.drain(before..).map(|(_, t)| t).collect();
            self.out.push((name.to_string(), joined));
        }
        result
    }
}

/// ECMA-402's name of an ICU4X part; empty for the parts inside a field
/// (a number's digits).
fn part_name(part: Part) -> &'static str {
    use icu_datetime::parts;
    match part {
        p if p == parts::ERA => "era",
        p if p == parts::YEAR || p == parts::RELATED_YEAR => "year",
        p if p == parts::MONTH => "month",
        p if p == parts::DAY => "day",
        p if p == parts::WEEKDAY => "weekday",
        p if p == parts::DAY_PERIOD => "dayPeriod",
        p if p == parts::HOUR => "hour",
        p if p == parts::MINUTE => "minute",
        p if p == parts::SECOND => "second",
        p if p == parts::TIME_ZONE_NAME => "timeZoneName",
        _ => "",
    }
}

/// `Intl.DateTimeFormat#formatToParts` (and `format`, which joins them):
/// `[type, value]` pairs for `epoch_ms` in `zone`, as `bag` says.
fn format_date_parts<'js>(
    ctx: Ctx<'js>,
    tag: String,
    epoch_ms: f64,
    zone: String,
    bag: Object<'js>,
) -> rquickjs::Result<Vec<Vec<String>>> {
    let (zoned, formatter) = prepare(&ctx, &tag, epoch_ms, &zone, &bag)?;
    let mut parts = Parts { out: Vec::new(), current: Vec::new() };
    formatter
        .format(&zoned)
        .write_to_parts(&mut parts)
        .map_err(|_| range_error(&ctx, "Intl.DateTimeFormat: the date could not be written"))?;
    Ok(parts.out.into_iter().map(|(kind, text)| vec![kind, text]).collect())
}
