//! The part of GVariant's text format that `org.systemd.property.*` annotations use: typed
//! numbers (`uint64 123`), plain numbers (int32, or double with a point), booleans, quoted
//! strings and arrays of those (`['a', 'b']`, `@as []`). Pure.

use super::props::Value;

/// Parses one value; the error says what was not understood.
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix('@') {
        let (sig, body) = rest.split_once(char::is_whitespace).ok_or("a type annotation needs a value")?;
        return typed_array(sig, body.trim());
    }
    if t.starts_with('[') {
        return array(t);
    }
    if let Some((kw, rest)) = t.split_once(char::is_whitespace) {
        if let Some(v) = typed_number(kw, rest.trim())? {
            return Ok(v);
        }
    }
    scalar(t)
}

fn typed_number(kw: &str, n: &str) -> Result<Option<Value>, String> {
    let bad = |_| format!("{n:?} is not a valid {kw}");
    Ok(Some(match kw {
        "uint64" => Value::U64(n.parse().map_err(bad)?),
        "int64" => Value::I64(n.parse().map_err(bad)?),
        "uint32" => Value::U32(n.parse().map_err(bad)?),
        "int32" => Value::I32(n.parse().map_err(bad)?),
        "uint16" => Value::U16(n.parse().map_err(bad)?),
        "int16" => Value::I16(n.parse().map_err(bad)?),
        "byte" => Value::Byte(n.parse().map_err(bad)?),
        "double" => Value::F64(n.parse().map_err(|_| format!("{n:?} is not a valid double"))?),
        "boolean" => Value::Bool(boolean(n).ok_or(format!("{n:?} is not a boolean"))?),
        "string" => Value::Str(string(n).ok_or(format!("{n:?} is not a quoted string"))?),
        _ => return Ok(None),
    }))
}

fn scalar(t: &str) -> Result<Value, String> {
    if let Some(b) = boolean(t) {
        return Ok(Value::Bool(b));
    }
    if let Some(s) = string(t) {
        return Ok(Value::Str(s));
    }
    if let Ok(n) = t.parse::<i32>() {
        return Ok(Value::I32(n));
    }
    if t.contains('.') {
        if let Ok(f) = t.parse::<f64>() {
            return Ok(Value::F64(f));
        }
    }
    Err(format!("unsupported GVariant value {t:?}"))
}

fn boolean(t: &str) -> Option<bool> {
    match t {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A single- or double-quoted string with backslash escapes of the quote and backslash.
fn string(t: &str) -> Option<String> {
    let q = t.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = t.strip_prefix(q)?.strip_suffix(q)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            c if c == q => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn items(t: &str) -> Result<Vec<&str>, String> {
    let inner = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')).ok_or(format!("unterminated array {t:?}"))?;
    let mut out = Vec::new();
    let (mut start, mut quote, mut escaped) = (0, None, false);
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (Some(_), '\\') if !escaped => escaped = true,
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, ',') => {
                out.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => escaped = false,
        }
    }
    let last = inner[start..].trim();
    if !last.is_empty() || !out.is_empty() {
        out.push(last);
    }
    Ok(out)
}

fn array(t: &str) -> Result<Value, String> {
    let parts = items(t)?;
    let vals = parts.iter().map(|p| parse(p)).collect::<Result<Vec<_>, _>>()?;
    if vals.iter().all(|v| matches!(v, Value::Str(_))) && !vals.is_empty() {
        return Ok(Value::Strs(
            vals.into_iter().map(|v| if let Value::Str(s) = v { s } else { String::new() }).collect(),
        ));
    }
    if vals.iter().all(|v| matches!(v, Value::I32(n) if *n >= 0)) && !vals.is_empty() {
        return Ok(Value::U32s(vals.into_iter().map(|v| if let Value::I32(n) = v { n as u32 } else { 0 }).collect()));
    }
    Err(format!("unsupported GVariant array {t:?} (arrays of strings, or typed empty ones, only)"))
}

fn typed_array(sig: &str, body: &str) -> Result<Value, String> {
    match (sig, array(body)) {
        ("as", Ok(v @ Value::Strs(_))) => Ok(v),
        ("au", Ok(v @ Value::U32s(_))) => Ok(v),
        ("as", Err(_)) if items(body)?.is_empty() => Ok(Value::Strs(Vec::new())),
        ("au", Err(_)) if items(body)?.is_empty() => Ok(Value::U32s(Vec::new())),
        _ => Err(format!("unsupported GVariant value @{sig} {body}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_used_in_annotations() {
        assert_eq!(parse("uint64 123456789").unwrap(), Value::U64(123456789));
        assert_eq!(parse("'inactive-or-failed'").unwrap(), Value::Str("inactive-or-failed".into()));
        assert_eq!(parse("\"a'b\"").unwrap(), Value::Str("a'b".into()));
        assert_eq!(parse("true").unwrap(), Value::Bool(true));
        assert_eq!(parse("42").unwrap(), Value::I32(42));
        assert_eq!(parse("1.5").unwrap(), Value::F64(1.5));
        assert_eq!(parse("['a', 'b,c']").unwrap(), Value::Strs(vec!["a".into(), "b,c".into()]));
        assert_eq!(parse("@as []").unwrap(), Value::Strs(vec![]));
        assert_eq!(parse("[1, 2]").unwrap(), Value::U32s(vec![1, 2]));
        for bad in ["uint64 -1", "int32 x", "word", "'open", "[1, 'a']", "@ay []", "[]"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
