//! `expr` as GNU coreutils': parentheses, `|` `&`, comparisons, arithmetic,
//! `:` and `match` (an anchored basic regular expression), `substr`,
//! `index`, `length`, `+ TOKEN`, and its statuses (0 for a result neither
//! null nor 0, 1 otherwise, 2 for an invalid expression). bashkit's own
//! printed `(` for `expr \( 1 + 2 \) \* 3`.

use bashkit::{Command, CommandContext, CommandStatus, async_trait};
use regex::Regex;

use crate::text::pattern::{Syntax, translate};

pub(crate) struct Expr;

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Int(i128),
    Str(String),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Str(s) => s.clone(),
        }
    }

    /// An integer as expr reads one: optional `-`, then digits.
    fn int(&self) -> Option<i128> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Str(s) => {
                let digits = s.strip_prefix('-').unwrap_or(s);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                s.parse().ok()
            }
        }
    }

    /// Null or zero: false, for `|`, `&` and the status.
    fn is_false(&self) -> bool {
        match self {
            Value::Int(n) => *n == 0,
            Value::Str(s) => s.is_empty() || self.int() == Some(0),
        }
    }
}

/// Why an expression has no value, and the status it exits with.
struct Failure(String, i32);

fn syntax(message: String) -> Failure {
    Failure(format!("syntax error: {message}"), 2)
}

struct Parser<'a> {
    args: &'a [String],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.args.get(self.at).map(String::as_str)
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn missing_after(&self) -> Failure {
        match self.at.checked_sub(1).and_then(|i| self.args.get(i)) {
            Some(last) => syntax(format!("missing argument after ‘{last}’")),
            None => syntax("missing argument".into()),
        }
    }

    fn or(&mut self) -> Result<Value, Failure> {
        let mut left = self.and()?;
        while self.eat("|") {
            let right = self.and()?;
            left = if !left.is_false() {
                left
            } else if !right.is_false() {
                right
            } else {
                Value::Int(0)
            };
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Value, Failure> {
        let mut left = self.compare()?;
        while self.eat("&") {
            let right = self.compare()?;
            left = if left.is_false() || right.is_false() { Value::Int(0) } else { left };
        }
        Ok(left)
    }

    fn compare(&mut self) -> Result<Value, Failure> {
        let mut left = self.sum()?;
        loop {
            let op = match self.peek() {
                Some(op @ ("<" | "<=" | "=" | "==" | "!=" | ">=" | ">")) => op.to_string(),
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.sum()?;
            let order = match (left.int(), right.int()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => left.text().cmp(&right.text()),
            };
            let holds = match op.as_str() {
                "<" => order.is_lt(),
                "<=" => order.is_le(),
                "=" | "==" => order.is_eq(),
                "!=" => order.is_ne(),
                ">=" => order.is_ge(),
                _ => order.is_gt(),
            };
            left = Value::Int(i128::from(holds));
        }
    }

    fn arithmetic(left: &Value, op: &str, right: &Value) -> Result<Value, Failure> {
        let (Some(a), Some(b)) = (left.int(), right.int()) else {
            return Err(Failure("non-integer argument".into(), 2));
        };
        // GNU's expr counts with arbitrary precision; 128 bits here.
        let value = match op {
            "+" => a.checked_add(b),
            "-" => a.checked_sub(b),
            "*" => a.checked_mul(b),
            "/" | "%" if b == 0 => return Err(Failure("division by zero".into(), 2)),
            "/" => a.checked_div(b),
            _ => a.checked_rem(b),
        };
        value.map(Value::Int).ok_or_else(|| Failure("result too large".into(), 2))
    }

    fn sum(&mut self) -> Result<Value, Failure> {
        let mut left = self.product()?;
        while let Some(op @ ("+" | "-")) = self.peek() {
            let op = op.to_string();
            self.at += 1;
            let right = self.product()?;
            left = Self::arithmetic(&left, &op, &right)?;
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Value, Failure> {
        let mut left = self.matched()?;
        while let Some(op @ ("*" | "/" | "%")) = self.peek() {
            let op = op.to_string();
            self.at += 1;
            let right = self.matched()?;
            left = Self::arithmetic(&left, &op, &right)?;
        }
        Ok(left)
    }

    fn matched(&mut self) -> Result<Value, Failure> {
        let mut left = self.primary()?;
        while self.eat(":") {
            let right = self.primary()?;
            left = regex_match(&left.text(), &right.text())?;
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<String, Failure> {
        self.primary().map(|v| v.text())
    }

    fn primary(&mut self) -> Result<Value, Failure> {
        let Some(token) = self.peek().map(str::to_string) else { return Err(self.missing_after()) };
        self.at += 1;
        match token.as_str() {
            "(" => {
                let inner = self.or()?;
                if !self.eat(")") {
                    return Err(match self.peek() {
                        Some(t) => syntax(format!("expecting ')' instead of ‘{t}’")),
                        None => syntax(format!("expecting ')' after ‘{}’", self.args[self.at - 1])),
                    });
                }
                Ok(inner)
            }
            "+" => match self.peek().map(str::to_string) {
                Some(t) => {
                    self.at += 1;
                    Ok(Value::Str(t))
                }
                None => Err(self.missing_after()),
            },
            "length" if self.peek().is_some() => Ok(Value::Int(self.operand()?.chars().count() as i128)),
            "match" if self.peek().is_some() => {
                let text = self.operand()?;
                let pattern = self.operand()?;
                regex_match(&text, &pattern)
            }
            "index" if self.peek().is_some() => {
                let text = self.operand()?;
                let chars = self.operand()?;
                let at = text.chars().position(|c| chars.contains(c)).map_or(0, |i| i + 1);
                Ok(Value::Int(at as i128))
            }
            "substr" if self.peek().is_some() => {
                let text = self.operand()?;
                let (position, length) = (self.operand()?, self.operand()?);
                let position: i128 = Value::Str(position).int().unwrap_or(0);
                let length: i128 = Value::Str(length).int().unwrap_or(0);
                let count = text.chars().count() as i128;
                if position < 1 || length < 1 || position > count {
                    return Ok(Value::Str(String::new()));
                }
                Ok(Value::Str(text.chars().skip(position as usize - 1).take(length.min(count) as usize).collect()))
            }
            ")" => Err(syntax("unexpected ')'".into())),
            _ => Ok(Value::Str(token)),
        }
    }
}

/// `STRING : REGEX`, anchored at the start: the first group's text, or the
/// length of the match.
fn regex_match(text: &str, pattern: &str) -> Result<Value, Failure> {
    let mut warnings = Vec::new();
    let translated = translate(pattern, Syntax::Basic, &mut warnings).map_err(|e| Failure(e, 2))?;
    let regex = Regex::new(&format!("^(?:{translated})")).map_err(|e| Failure(e.to_string(), 2))?;
    let groups = regex.captures_len() > 1;
    match regex.captures(text) {
        Some(found) if groups => Ok(Value::Str(found.get(1).map_or("", |m| m.as_str()).to_string())),
        Some(found) => Ok(Value::Int(found.get(0).map_or(0, |m| m.as_str().chars().count()) as i128)),
        None if groups => Ok(Value::Str(String::new())),
        None => Ok(Value::Int(0)),
    }
}

fn evaluate(args: &[String]) -> Result<Value, Failure> {
    if args.is_empty() {
        return Err(Failure("missing operand".into(), 2));
    }
    let mut parser = Parser { args, at: 0 };
    let value = parser.or()?;
    match parser.peek() {
        None => Ok(value),
        Some(extra) => Err(syntax(format!("unexpected argument ‘{extra}’"))),
    }
}

#[async_trait]
impl Command for Expr {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let args: &[String] = match ctx.args.first().map(String::as_str) {
            Some("--") => &ctx.args[1..],
            Some("--help") if ctx.args.len() == 1 => {
                ctx.stdout.write_all(b"Usage: expr EXPRESSION\n  or:  expr OPTION\n").await?;
                return Ok(CommandStatus::success());
            }
            Some("--version") if ctx.args.len() == 1 => {
                ctx.stdout.write_all(b"expr (runbox)\n").await?;
                return Ok(CommandStatus::success());
            }
            _ => ctx.args,
        };
        match evaluate(args) {
            Ok(value) => {
                ctx.stdout.write_all(format!("{}\n", value.text()).as_bytes()).await?;
                Ok(CommandStatus::with_code(if value.is_false() { 1 } else { 0 }))
            }
            Err(Failure(message, status)) => {
                let tail = if message == "missing operand" { "\nTry 'expr --help' for more information." } else { "" };
                ctx.stderr.write_all(format!("expr: {message}{tail}\n").as_bytes()).await?;
                Ok(CommandStatus::with_code(status))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(args: &[&str]) -> Result<String, (String, i32)> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        evaluate(&args).map(|v| v.text()).map_err(|Failure(m, s)| (m, s))
    }

    #[test]
    fn answers_as_gnu_expr() {
        assert_eq!(expr(&["(", "1", "+", "2", ")", "*", "3"]), Ok("9".into()));
        assert_eq!(expr(&["abc123", ":", "[a-z]*\\([0-9]*\\)"]), Ok("123".into()));
        assert_eq!(expr(&["abc", ":", "a.*"]), Ok("3".into()));
        assert_eq!(expr(&["length", "héllo"]), Ok("5".into()));
        assert_eq!(expr(&["substr", "hello", "2", "3"]), Ok("ell".into()));
        assert_eq!(expr(&["index", "hello", "lo"]), Ok("3".into()));
        assert_eq!(expr(&["10", "<", "9"]), Ok("0".into()));
        assert_eq!(expr(&["a", "<", "b"]), Ok("1".into()));
        assert_eq!(expr(&["", "|", "x"]), Ok("x".into()));
        assert_eq!(expr(&["1", "/", "0"]), Err(("division by zero".into(), 2)));
        assert_eq!(expr(&["1", "+"]), Err(("syntax error: missing argument after ‘+’".into(), 2)));
    }
}
