//! The condition language: `dport = 443 and not sip = 10.0.0.0/8`.
//!
//! Grammar (keywords are case-insensitive; docs/query.md has the full
//! reference):
//!
//! ```text
//! condition  := or
//! or         := and  (("or"  | "|" | "||") and)*
//! and        := unary (("and" | "&" | "&&") unary)*
//! unary      := ("not" | "!") unary | "(" or ")" | comparison
//! comparison := attribute operator value
//! operator   := "=" | "==" | "!=" | "<" | ">" | "<=" | ">="
//!             | eq | ne | neq | lt | gt | le | leq | ge | geq
//! value      := word | "quoted" | 'quoted'
//! ```
//!
//! Parsing checks every value against its attribute (addresses, CIDR
//! prefixes, port and protocol ranges) so that a bad query fails before any
//! record is read, with the position of the offending token.

use crate::attr::{ip_protocol_number, parse_count, parse_duration_ns};
use std::fmt;
use std::net::IpAddr;

/// A parse error with the byte offset and length of the offending text in
/// the query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position {}: {kind}", .position + 1)]
pub struct ParseError {
    /// Byte offset in the query (0-based; shown 1-based).
    pub position: usize,
    /// Length in bytes of the offending text (at least 1 for the caret).
    pub len: usize,
    pub kind: ParseErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("empty condition")]
    Empty,
    #[error("expected {expected}, found the end of the condition")]
    UnexpectedEnd { expected: &'static str },
    #[error("expected {expected}, found {found:?}")]
    Unexpected { expected: &'static str, found: String },
    #[error("unterminated string")]
    UnterminatedString,
    #[error("unknown attribute {name:?} (known: {known})")]
    UnknownAttribute { name: String, known: &'static str },
    #[error("invalid value {value:?} for {attribute}: {reason}")]
    InvalidValue { attribute: &'static str, value: String, reason: String },
    #[error("operator {operator} cannot be used with {what}")]
    BadOperator { operator: &'static str, what: &'static str },
    #[error("conditions nest too deeply (more than {max} levels)")]
    TooDeep { max: usize },
}

impl ParseError {
    /// The query with a caret line under the offending text:
    ///
    /// ```text
    /// dport = 443 and sip = 10.0.0.0/33
    ///                       ^^^^^^^^^^^
    /// ```
    pub fn pointer(&self, query: &str) -> String {
        let start = query.get(..self.position).map_or(self.position, |p| p.chars().count());
        let width = query
            .get(self.position..)
            .map(|rest| rest.char_indices().take_while(|(i, _)| *i < self.len).count())
            .unwrap_or(1)
            .max(1);
        format!("{query}\n{}{}", " ".repeat(start), "^".repeat(width))
    }
}

fn error(position: usize, len: usize, kind: ParseErrorKind) -> ParseError {
    ParseError { position, len: len.max(1), kind }
}

// ----------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Op(Op),
    /// A bare word (attribute, value, or keyword) or a quoted string.
    Word {
        text: String,
        quoted: bool,
    },
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
    len: usize,
}

/// Characters that end a bare word: operators, parentheses, quotes.
fn is_special(c: char) -> bool {
    matches!(c, '(' | ')' | '=' | '!' | '<' | '>' | '&' | '|' | '"' | '\'')
}

fn lex(query: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let bytes = query.as_bytes();
    let mut chars = query.char_indices().peekable();
    while let Some(&(pos, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let next = bytes.get(pos + 1).copied();
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '&' if next == Some(b'&') => (Tok::And, 2),
            '&' => (Tok::And, 1),
            '|' if next == Some(b'|') => (Tok::Or, 2),
            '|' => (Tok::Or, 1),
            '!' if next == Some(b'=') => (Tok::Op(Op::Ne), 2),
            '!' => (Tok::Not, 1),
            '=' if next == Some(b'=') => (Tok::Op(Op::Eq), 2),
            '=' => (Tok::Op(Op::Eq), 1),
            '<' if next == Some(b'=') => (Tok::Op(Op::Le), 2),
            '<' => (Tok::Op(Op::Lt), 1),
            '>' if next == Some(b'=') => (Tok::Op(Op::Ge), 2),
            '>' => (Tok::Op(Op::Gt), 1),
            '"' | '\'' => {
                let body = &query[pos + 1..];
                let Some(end) = body.find(c) else {
                    return Err(error(pos, query.len() - pos, ParseErrorKind::UnterminatedString));
                };
                let len = end + 2;
                (Tok::Word { text: body[..end].to_string(), quoted: true }, len)
            }
            _ => {
                let rest = &query[pos..];
                let end = rest.find(|c: char| c.is_whitespace() || is_special(c)).unwrap_or(rest.len());
                let word = &rest[..end];
                let tok = match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "eq" => Tok::Op(Op::Eq),
                    "ne" | "neq" => Tok::Op(Op::Ne),
                    "lt" => Tok::Op(Op::Lt),
                    "le" | "leq" => Tok::Op(Op::Le),
                    "gt" => Tok::Op(Op::Gt),
                    "ge" | "geq" => Tok::Op(Op::Ge),
                    _ => Tok::Word { text: word.to_string(), quoted: false },
                };
                (tok, end)
            }
        };
        tokens.push(Token { tok, pos, len });
        while chars.peek().is_some_and(|&(p, _)| p < pos + len) {
            chars.next();
        }
    }
    Ok(tokens)
}

// ----------------------------------------------------------------------------
// Syntax tree

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => ordering == Equal,
            Op::Ne => ordering != Equal,
            Op::Lt => ordering == Less,
            Op::Le => ordering != Greater,
            Op::Gt => ordering == Greater,
            Op::Ge => ordering != Less,
        }
    }
}

/// Which address or port of a connection a test looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client's (`sip`, `sport`).
    Src,
    /// The server's (`dip`, `dport`).
    Dst,
    /// Either (`host`, `port`): `!=` means neither.
    Either,
}

/// An IP value: one address or a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpValue {
    Addr(IpAddr),
    /// Network address (host bits cleared) and prefix length.
    Net(IpAddr, u8),
}

impl IpValue {
    fn matches(self, op: Op, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return op == Op::Ne };
        match self {
            IpValue::Addr(value) => match (ip, value) {
                (IpAddr::V4(a), IpAddr::V4(b)) => op.holds(a.cmp(&b)),
                (IpAddr::V6(a), IpAddr::V6(b)) => op.holds(a.cmp(&b)),
                // Addresses of different families are unequal and unordered.
                _ => op == Op::Ne,
            },
            IpValue::Net(net, prefix) => {
                let inside = match (ip, net) {
                    (IpAddr::V4(a), IpAddr::V4(n)) => mask_v4(u32::from(a), prefix) == u32::from(n),
                    (IpAddr::V6(a), IpAddr::V6(n)) => mask_v6(u128::from(a), prefix) == u128::from(n),
                    _ => false,
                };
                // The parser allows only = and != with networks.
                if op == Op::Ne { !inside } else { inside }
            }
        }
    }
}

fn mask_v4(addr: u32, prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { addr & (u32::MAX << (32 - u32::from(prefix))) }
}

fn mask_v6(addr: u128, prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { addr & (u128::MAX << (128 - u32::from(prefix))) }
}

/// Numeric attributes of a whole connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Packets,
    Bytes,
    /// Nanoseconds.
    Duration,
}

/// One test of a connection's field against a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    Ip {
        side: Side,
        op: Op,
        value: IpValue,
    },
    Port {
        side: Side,
        op: Op,
        value: u16,
    },
    Proto {
        op: Op,
        value: u8,
    },
    /// Application protocol, compared without regard to ASCII case; only
    /// `=` and `!=`.
    App {
        op: Op,
        value: String,
    },
    Metric {
        metric: Metric,
        op: Op,
        value: u64,
    },
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Test(Test),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

/// The fields of a connection that conditions look at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields<'a> {
    pub sip: Option<IpAddr>,
    pub dip: Option<IpAddr>,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub app: &'a str,
    pub packets: u64,
    pub bytes: u64,
    pub duration_ns: u64,
}

impl Condition {
    /// Parses a condition; see the module documentation for the grammar.
    pub fn parse(query: &str) -> Result<Condition, ParseError> {
        let tokens = lex(query)?;
        if tokens.is_empty() {
            return Err(error(0, query.len(), ParseErrorKind::Empty));
        }
        let mut parser = Parser { tokens, at: 0, end: query.len(), depth: 0 };
        let condition = parser.or()?;
        if let Some(token) = parser.peek() {
            let expected = if token.tok == Tok::RParen { "no ')' without a matching '('" } else { "'and' or 'or'" };
            return Err(parser.unexpected(token.clone(), expected));
        }
        Ok(condition)
    }

    /// Whether the connection satisfies the condition.
    pub fn matches(&self, f: &Fields<'_>) -> bool {
        match self {
            Condition::Test(test) => test.matches(f),
            Condition::Not(inner) => !inner.matches(f),
            Condition::And(all) => all.iter().all(|c| c.matches(f)),
            Condition::Or(any) => any.iter().any(|c| c.matches(f)),
        }
    }

    /// Whether evaluating needs the parsed addresses.
    pub fn uses_addresses(&self) -> bool {
        match self {
            Condition::Test(test) => matches!(test, Test::Ip { .. }),
            Condition::Not(inner) => inner.uses_addresses(),
            Condition::And(all) | Condition::Or(all) => all.iter().any(Condition::uses_addresses),
        }
    }
}

impl Test {
    fn matches(&self, f: &Fields<'_>) -> bool {
        match self {
            Test::Ip { side, op, value } => match side {
                Side::Src => value.matches(*op, f.sip),
                Side::Dst => value.matches(*op, f.dip),
                Side::Either if *op == Op::Ne => !(value.matches(Op::Eq, f.sip) || value.matches(Op::Eq, f.dip)),
                Side::Either => value.matches(*op, f.sip) || value.matches(*op, f.dip),
            },
            Test::Port { side, op, value } => match side {
                Side::Src => op.holds(f.sport.cmp(value)),
                Side::Dst => op.holds(f.dport.cmp(value)),
                Side::Either if *op == Op::Ne => f.sport != *value && f.dport != *value,
                Side::Either => op.holds(f.sport.cmp(value)) || op.holds(f.dport.cmp(value)),
            },
            Test::Proto { op, value } => op.holds(f.proto.cmp(value)),
            Test::App { op, value } => {
                let equal = f.app.eq_ignore_ascii_case(value);
                if *op == Op::Ne { !equal } else { equal }
            }
            Test::Metric { metric, op, value } => {
                let actual = match metric {
                    Metric::Packets => f.packets,
                    Metric::Bytes => f.bytes,
                    Metric::Duration => f.duration_ns,
                };
                op.holds(actual.cmp(value))
            }
        }
    }
}

impl fmt::Display for Condition {
    /// Canonical form, fully parenthesised where precedence needs it.
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join(out: &mut fmt::Formatter<'_>, parts: &[Condition], sep: &str, parent_and: bool) -> fmt::Result {
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    write!(out, " {sep} ")?;
                }
                // Parentheses where precedence needs them, and around a
                // nested list of the same kind, so that the printed form
                // parses back to the same tree.
                match part {
                    Condition::Or(_) => write!(out, "({part})")?,
                    Condition::And(_) if parent_and => write!(out, "({part})")?,
                    _ => write!(out, "{part}")?,
                }
            }
            Ok(())
        }
        match self {
            Condition::Test(test) => write!(out, "{test}"),
            Condition::Not(inner) => match **inner {
                Condition::Test(_) | Condition::Not(_) => write!(out, "not {inner}"),
                _ => write!(out, "not ({inner})"),
            },
            Condition::And(all) => join(out, all, "and", true),
            Condition::Or(any) => join(out, any, "or", false),
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side_name = |side: &Side, src: &'static str, dst: &'static str, either: &'static str| match side {
            Side::Src => src,
            Side::Dst => dst,
            Side::Either => either,
        };
        match self {
            Test::Ip { side, op, value } => {
                write!(out, "{} {} ", side_name(side, "sip", "dip", "host"), op.symbol())?;
                match value {
                    IpValue::Addr(a) => write!(out, "{a}"),
                    IpValue::Net(n, p) => write!(out, "{n}/{p}"),
                }
            }
            Test::Port { side, op, value } => {
                write!(out, "{} {} {value}", side_name(side, "sport", "dport", "port"), op.symbol())
            }
            Test::Proto { op, value } => write!(out, "proto {} {value}", op.symbol()),
            Test::App { op, value } => write!(out, "app {} {value:?}", op.symbol()),
            Test::Metric { metric, op, value } => match metric {
                Metric::Packets => write!(out, "packets {} {value}", op.symbol()),
                Metric::Bytes => write!(out, "bytes {} {value}", op.symbol()),
                Metric::Duration => write!(out, "duration {} {value}ns", op.symbol()),
            },
        }
    }
}

// ----------------------------------------------------------------------------
// Parser

/// Deepest nesting of parentheses and `not`s accepted, so that a hostile
/// query cannot overflow the stack.
const MAX_DEPTH: usize = 64;

const CONDITION_ATTRIBUTES: &str =
    "sip, dip, host, snet, dnet, net, sport, dport, port, proto, app, packets, bytes, duration";

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self, expected: &'static str) -> Result<Token, ParseError> {
        let token = self.tokens.get(self.at).cloned().ok_or_else(|| self.end_error(expected))?;
        self.at += 1;
        Ok(token)
    }

    fn end_error(&self, expected: &'static str) -> ParseError {
        error(self.end, 1, ParseErrorKind::UnexpectedEnd { expected })
    }

    fn unexpected(&self, token: Token, expected: &'static str) -> ParseError {
        let found = match token.tok {
            Tok::Word { text, .. } => text,
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::And => "and".into(),
            Tok::Or => "or".into(),
            Tok::Not => "not".into(),
            Tok::Op(op) => op.symbol().into(),
        };
        error(token.pos, token.len, ParseErrorKind::Unexpected { expected, found })
    }

    fn or(&mut self) -> Result<Condition, ParseError> {
        let mut parts = vec![self.and()?];
        while self.peek().is_some_and(|t| t.tok == Tok::Or) {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Condition::Or(parts) })
    }

    fn and(&mut self) -> Result<Condition, ParseError> {
        let mut parts = vec![self.unary()?];
        while self.peek().is_some_and(|t| t.tok == Tok::And) {
            self.at += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Condition::And(parts) })
    }

    fn unary(&mut self) -> Result<Condition, ParseError> {
        const EXPECTED: &str = "a comparison such as 'dport = 443', 'not' or '('";
        let token = self.next(EXPECTED)?;
        match token.tok {
            Tok::Not | Tok::LParen => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(error(token.pos, token.len, ParseErrorKind::TooDeep { max: MAX_DEPTH }));
                }
                let result = if token.tok == Tok::Not {
                    Condition::Not(Box::new(self.unary()?))
                } else {
                    let inner = self.or()?;
                    match self.peek() {
                        Some(Token { tok: Tok::RParen, .. }) => self.at += 1,
                        Some(other) => return Err(self.unexpected(other.clone(), "')' or 'and' or 'or'")),
                        None => return Err(self.end_error("')' to close the '(' at its position")),
                    }
                    inner
                };
                self.depth -= 1;
                Ok(result)
            }
            Tok::Word { text, quoted: false } => self.comparison(&text, token.pos, token.len),
            _ => Err(self.unexpected(token, EXPECTED)),
        }
    }

    fn comparison(&mut self, name: &str, pos: usize, len: usize) -> Result<Condition, ParseError> {
        let attribute = CondAttr::parse(name).ok_or_else(|| {
            error(pos, len, ParseErrorKind::UnknownAttribute { name: name.into(), known: CONDITION_ATTRIBUTES })
        })?;
        let op_token = self.next("a comparison operator (=, !=, <, <=, >, >=)")?;
        let Tok::Op(op) = op_token.tok else {
            return Err(self.unexpected(op_token, "a comparison operator (=, !=, <, <=, >, >=)"));
        };
        let value = self.next("a value")?;
        let Tok::Word { text, .. } = &value.tok else {
            return Err(self.unexpected(value, "a value"));
        };
        let bad_operator =
            |what| error(op_token.pos, op_token.len, ParseErrorKind::BadOperator { operator: op.symbol(), what });
        let invalid = |reason: String| {
            error(
                value.pos,
                value.len,
                ParseErrorKind::InvalidValue { attribute: attribute.name(), value: text.clone(), reason },
            )
        };
        let test = match attribute {
            CondAttr::Ip(side) => {
                let ip = parse_ip_value(text).map_err(invalid)?;
                if matches!(ip, IpValue::Net(..)) && !matches!(op, Op::Eq | Op::Ne) {
                    return Err(bad_operator("a network (CIDR): use = or !="));
                }
                Test::Ip { side, op, value: ip }
            }
            CondAttr::Port(side) => {
                let port = text.parse::<u16>().map_err(|_| invalid("expected a port number 0-65535".into()))?;
                Test::Port { side, op, value: port }
            }
            CondAttr::Proto => {
                let value = ip_protocol_number(text).ok_or_else(|| {
                    invalid("expected an IP protocol number 0-255 or a name such as tcp, udp, icmp, icmpv6".into())
                })?;
                Test::Proto { op, value }
            }
            CondAttr::App => {
                if !matches!(op, Op::Eq | Op::Ne) {
                    return Err(bad_operator("app (a name): use = or !="));
                }
                Test::App { op, value: text.clone() }
            }
            CondAttr::Metric(metric) => {
                let parsed = match metric {
                    Metric::Duration => parse_duration_ns(text),
                    Metric::Packets | Metric::Bytes => parse_count(text),
                };
                Test::Metric { metric, op, value: parsed.map_err(invalid)? }
            }
        };
        Ok(Condition::Test(test))
    }
}

#[derive(Clone, Copy)]
enum CondAttr {
    Ip(Side),
    Port(Side),
    Proto,
    App,
    Metric(Metric),
}

impl CondAttr {
    fn parse(name: &str) -> Option<CondAttr> {
        Some(match name.to_ascii_lowercase().as_str() {
            "sip" | "src" | "src_ip" | "snet" => CondAttr::Ip(Side::Src),
            "dip" | "dst" | "dst_ip" | "dnet" => CondAttr::Ip(Side::Dst),
            "host" | "net" | "ip" => CondAttr::Ip(Side::Either),
            "sport" | "src_port" => CondAttr::Port(Side::Src),
            "dport" | "dst_port" => CondAttr::Port(Side::Dst),
            "port" => CondAttr::Port(Side::Either),
            "proto" | "protocol" | "ip_protocol" | "ipproto" => CondAttr::Proto,
            "app" | "application" | "application_protocol" => CondAttr::App,
            "packets" => CondAttr::Metric(Metric::Packets),
            "bytes" => CondAttr::Metric(Metric::Bytes),
            "duration" => CondAttr::Metric(Metric::Duration),
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            CondAttr::Ip(Side::Src) => "sip",
            CondAttr::Ip(Side::Dst) => "dip",
            CondAttr::Ip(Side::Either) => "host",
            CondAttr::Port(Side::Src) => "sport",
            CondAttr::Port(Side::Dst) => "dport",
            CondAttr::Port(Side::Either) => "port",
            CondAttr::Proto => "proto",
            CondAttr::App => "app",
            CondAttr::Metric(Metric::Packets) => "packets",
            CondAttr::Metric(Metric::Bytes) => "bytes",
            CondAttr::Metric(Metric::Duration) => "duration",
        }
    }
}

/// An address (`10.1.2.3`, `2001:db8::1`) or a network (`10.0.0.0/8`,
/// `2001:db8::/32`); a network's host bits must be zero, as in routing
/// tables, so that a typo such as `10.1.2.3/8` is not silently widened.
fn parse_ip_value(text: &str) -> Result<IpValue, String> {
    let (addr, prefix) = match text.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (text, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| "expected an IPv4 or IPv6 address or a CIDR network".to_string())?;
    let Some(prefix) = prefix else { return Ok(IpValue::Addr(ip)) };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= max)
        .ok_or_else(|| format!("the prefix length must be a number from 0 to {max}"))?;
    let network = match ip {
        IpAddr::V4(a) => IpAddr::V4(mask_v4(u32::from(a), prefix).into()),
        IpAddr::V6(a) => IpAddr::V6(mask_v6(u128::from(a), prefix).into()),
    };
    if network != ip {
        return Err(format!("host bits are set (did you mean {network}/{prefix}?)"));
    }
    Ok(IpValue::Net(network, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Condition {
        Condition::parse(q).unwrap_or_else(|e| panic!("{q}: {e}\n{}", e.pointer(q)))
    }

    fn err(q: &str) -> ParseError {
        Condition::parse(q).expect_err(q)
    }

    fn fields(sip: &str, dip: &str, sport: u16, dport: u16, proto: u8) -> Fields<'static> {
        Fields {
            sip: sip.parse().ok(),
            dip: dip.parse().ok(),
            sport,
            dport,
            proto,
            app: "TLS",
            packets: 10,
            bytes: 1500,
            duration_ns: 2_000_000_000,
        }
    }

    #[test]
    fn precedence_not_over_and_over_or() {
        assert_eq!(parse("dport = 1 or dport = 2 and dport = 3").to_string(), "dport = 1 or dport = 2 and dport = 3");
        assert!(matches!(parse("dport = 1 or dport = 2 and dport = 3"), Condition::Or(ref v) if v.len() == 2));
        assert!(matches!(parse("(dport = 1 or dport = 2) and dport = 3"), Condition::And(ref v) if v.len() == 2));
        assert_eq!(parse("(dport = 1 | dport = 2) & dport = 3").to_string(), "(dport = 1 or dport = 2) and dport = 3");
        assert_eq!(parse("not dport = 1 and dport = 2").to_string(), "not dport = 1 and dport = 2");
        assert_eq!(parse("!(dport = 1 && dport = 2)").to_string(), "not (dport = 1 and dport = 2)");
        assert_eq!(parse("! ! dport=1").to_string(), "not not dport = 1");
        // Word operators, any case.
        assert_eq!(parse("DPORT EQ 443 AND sip NEQ 10.0.0.0/8").to_string(), "dport = 443 and sip != 10.0.0.0/8");
        assert_eq!(
            parse("sport lt 5 or sport ge 6 or sport le 1 or sport gt 9 or sport == 0").to_string(),
            "sport < 5 or sport >= 6 or sport <= 1 or sport > 9 or sport = 0"
        );

        let f = fields("10.1.2.3", "192.0.2.1", 40000, 443, 6);
        assert!(parse("dport = 1 or dport = 443 and proto = tcp").matches(&f));
        assert!(!parse("(dport = 1 or dport = 443) and proto = udp").matches(&f));
        assert!(parse("dport = 443 or dport = 1 and proto = udp").matches(&f));
        assert!(!parse("not dport = 443 or dport = 1").matches(&f));
        assert!(parse("not (dport = 443 and sport = 1)").matches(&f));
    }

    #[test]
    fn printed_conditions_parse_back_to_the_same_tree() {
        for q in [
            "(dport = 1 and dport = 2) and dport = 3",
            "dport = 1 or (dport = 2 or dport = 3)",
            "not (a = 1)".replace("a", "app").as_str(),
            "duration > 1.5s and bytes >= 2k or packets < 3",
            "host != 2001:db8::/32 | port ge 1024 & !(proto = icmpv6)",
            "app = \"it's\" or app = ''",
        ] {
            let c = parse(q);
            assert_eq!(parse(&c.to_string()), c, "{q} -> {c}");
        }
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        let e = err("dport = 443 and sip = 10.0.0.0/33");
        assert_eq!((e.position, e.len), (22, 11));
        assert!(matches!(e.kind, ParseErrorKind::InvalidValue { attribute: "sip", .. }), "{e}");
        assert_eq!(
            e.pointer("dport = 443 and sip = 10.0.0.0/33").lines().nth(1),
            Some(&*format!("{}{}", " ".repeat(22), "^".repeat(11)))
        );
        assert!(e.to_string().starts_with("position 23: invalid value \"10.0.0.0/33\" for sip"), "{e}");

        let e = err("dport = 443 and");
        assert_eq!(e.position, 15);
        assert!(matches!(e.kind, ParseErrorKind::UnexpectedEnd { .. }));

        let e = err("dprt = 443");
        assert_eq!((e.position, e.len), (0, 4));
        assert!(matches!(e.kind, ParseErrorKind::UnknownAttribute { .. }));
        assert!(e.to_string().contains("dport"), "lists the known attributes: {e}");

        let e = err("dport 443");
        assert_eq!(e.position, 6);
        let e = err("dport = 70000");
        assert_eq!(e.position, 8);
        let e = err("(dport = 1 or dport = 2");
        assert_eq!(e.position, 23);
        let e = err("dport = 1)");
        assert_eq!(e.position, 9);
        let e = err("dport = 1 dport = 2");
        assert_eq!(e.position, 10);
        let e = err("sip < 10.0.0.0/8");
        assert_eq!((e.position, e.len), (4, 1));
        assert!(matches!(e.kind, ParseErrorKind::BadOperator { .. }), "{e}");
        let e = err("app > tls");
        assert!(matches!(e.kind, ParseErrorKind::BadOperator { .. }), "{e}");
        let e = err("sip = 10.1.2.3/8");
        assert!(e.to_string().contains("10.0.0.0/8"), "{e}");
        let e = err("app = \"tls");
        assert_eq!(e.kind, ParseErrorKind::UnterminatedString);
        assert_eq!(err("   ").kind, ParseErrorKind::Empty);
        assert_eq!(err("and").position, 0);
        let e = err("proto = bogus");
        assert_eq!(e.position, 8);
        assert!(matches!(err(&"(".repeat(100)).kind, ParseErrorKind::TooDeep { .. }));
        assert!(matches!(err(&"!".repeat(10_000)).kind, ParseErrorKind::TooDeep { .. }));
        // Positions are byte offsets; the pointer counts characters.
        let e = err("app = \"é\" and x = 1");
        assert_eq!(e.position, 15);
        assert_eq!(e.pointer("app = \"é\" and x = 1").lines().nth(1), Some("              ^"));
    }

    #[test]
    fn cidr_v4_and_v6() {
        let v4 = fields("10.200.3.4", "192.0.2.1", 1, 2, 6);
        assert!(parse("sip = 10.0.0.0/8").matches(&v4));
        assert!(!parse("sip != 10.0.0.0/8").matches(&v4));
        assert!(parse("sip = 0.0.0.0/0").matches(&v4));
        assert!(parse("sip = 10.200.3.4/32").matches(&v4));
        assert!(!parse("sip = 10.200.3.5/32").matches(&v4));
        assert!(parse("dip = 192.0.2.0/24 and not dip = 192.0.3.0/24").matches(&v4));
        assert!(parse("dport = 2 and sip != 172.16.0.0/12").matches(&v4));
        assert!(!parse("sip = ::/0").matches(&v4), "an IPv4 address is in no IPv6 network");
        assert!(parse("sip > 10.200.3.3 and sip <= 10.200.3.4 and sip < 11.0.0.0").matches(&v4));
        assert!(parse("host = 192.0.2.1 and host = 10.0.0.0/8").matches(&v4));
        assert!(!parse("host != 192.0.2.1").matches(&v4));
        assert!(parse("host != 192.0.2.2").matches(&v4));
        assert!(parse("net = 192.0.2.0/24").matches(&v4));

        let v6 = fields("2001:db8:0:1::5", "fe80::1", 1, 2, 6);
        assert!(parse("sip = 2001:db8::/32").matches(&v6));
        assert!(parse("snet = 2001:db8:0:1::/64 and dnet != 2001:db8::/32").matches(&v6));
        assert!(!parse("sip = 2001:db8:0:2::/64").matches(&v6));
        assert!(parse("sip = 2001:db8:0:1::5").matches(&v6));
        assert!(parse("sip != 10.0.0.1").matches(&v6), "different families are unequal");
        assert!(!parse("sip < 10.0.0.1").matches(&v6) && !parse("sip > 10.0.0.1").matches(&v6));
        assert!(parse("dip = fe80::/10").matches(&v6));
        assert!(err("sip = 2001:db8::/129").to_string().contains("0 to 128"));
        assert!(err("sip = 2001:db8::1/32").to_string().contains("host bits"));
        assert!(err("sip = 10.0.0.0/x").to_string().contains("0 to 32"));
        assert!(err("sip = 10.0.0").to_string().contains("IPv4 or IPv6"));
        // Unparsable addresses in a record are no address at all.
        let none = fields("", "", 1, 2, 6);
        assert!(!parse("sip = 0.0.0.0/0").matches(&none) && parse("sip != 0.0.0.0/0").matches(&none));
    }

    #[test]
    fn ports_protocols_apps_and_metrics() {
        let f = fields("10.0.0.1", "10.0.0.2", 53000, 53, 17);
        assert!(
            parse("dport = 53 and sport > 1024 and sport < 65535 and sport >= 53000 and sport <= 53000").matches(&f)
        );
        assert!(parse("port = 53").matches(&f));
        assert!(!parse("port != 53").matches(&f), "port != x: neither port is x");
        assert!(parse("port != 80").matches(&f));
        assert!(parse("port < 54").matches(&f));
        for q in ["proto = udp", "proto = UDP", "proto = 17", "protocol eq Udp", "proto > tcp", "proto != icmp"] {
            assert!(parse(q).matches(&f), "{q}");
        }
        assert!(parse("proto = icmpv6").to_string() == "proto = 58");
        assert!(parse("proto = ipv6-icmp").to_string() == "proto = 58");
        assert!(parse("proto = sctp").to_string() == "proto = 132");
        assert!(err("proto = 256").to_string().contains("0-255"));
        assert!(parse("app = tls and app = 'Tls' and app != \"dns\"").matches(&f));
        assert!(parse("app = \"\"").matches(&Fields { app: "", ..f }));
        assert!(parse("packets = 10 and bytes > 1k and bytes < 1.6k and bytes >= 1500").matches(&f));
        assert!(parse("bytes < 1M and bytes < 1G and packets < 1T").matches(&f));
        assert!(parse("duration = 2s and duration > 1999ms and duration < 1m and duration < 1h").matches(&f));
        assert!(parse("duration = 2").matches(&f), "bare durations are seconds");
        assert!(parse("duration = 2000000us and duration = 2000000000ns").matches(&f));
        assert!(err("bytes > lots").to_string().contains("bytes"));
        assert!(err("duration > 5 parsecs").to_string().contains("'and' or 'or'"));
        assert!(err("duration > 5parsecs").to_string().contains("duration"));
    }
}
