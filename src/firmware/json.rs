//! JSON documents as the manifest reader walks them. The parsing is not ours: in the browser it
//! is the browser's own `JSON.parse` (so the page carries no JSON parser), natively serde_json.
//! Both give this small tree; numbers are `f64` on both sides, as in JavaScript.

use std::fmt;

/// `text` as the inside of a JSON string: quotes, backslashes and control characters escaped,
/// so a value read from a file (a board's id, a workshop's title) reads back as it was.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Object),
}

/// A JSON object's members in document order; a repeated key means its last value (as in
/// `JSON.parse` and serde_json).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object(pub Vec<(String, Json)>);

impl Object {
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl Json {
    /// Parses `text`; the error is the parser's own message (where it stopped, and why).
    pub fn parse(text: &str) -> Result<Json, String> {
        imp::parse(text)
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

/// A number as JSON writes it ("32768", "32.768", "-0.5"), to nine decimals, without the
/// float formatter (about 10 KB of the page's wasm).
pub fn number_text(n: f64) -> String {
    if !n.is_finite() {
        return "null".into();
    }
    let sign = if n < 0.0 { "-" } else { "" };
    let a = n.abs();
    let whole = a.trunc();
    let mut frac = ((a - whole) * 1e9).round() as u64;
    let mut whole = whole as u64;
    if frac == 1_000_000_000 {
        whole += 1;
        frac = 0;
    }
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{frac:09}");
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

/// Compact JSON text, for messages that quote a value.
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(n) => f.write_str(&number_text(*n)),
            Json::String(s) => write!(f, "{s:?}"),
            Json::Array(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    write!(f, "{}{v}", if i > 0 { "," } else { "" })?;
                }
                f.write_str("]")
            }
            Json::Object(o) => {
                f.write_str("{")?;
                for (i, (k, v)) in o.0.iter().enumerate() {
                    write!(f, "{}{k:?}:{v}", if i > 0 { "," } else { "" })?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::{Json, Object};
    use serde_json::Value;

    pub fn parse(text: &str) -> Result<Json, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(convert(value))
    }

    fn convert(value: Value) -> Json {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Json::String(s),
            Value::Array(items) => Json::Array(items.into_iter().map(convert).collect()),
            Value::Object(map) => Json::Object(Object(
                map.into_iter().map(|(k, v)| (k, convert(v))).collect(),
            )),
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::{Json, Object};
    use js_sys::{Array, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    pub fn parse(text: &str) -> Result<Json, String> {
        let value = js_sys::JSON::parse(text).map_err(|e| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| crate::i18n::t("not JSON").into())
        })?;
        Ok(convert(&value))
    }

    fn convert(value: &JsValue) -> Json {
        if let Some(b) = value.as_bool() {
            Json::Bool(b)
        } else if let Some(n) = value.as_f64() {
            Json::Number(n)
        } else if let Some(s) = value.as_string() {
            Json::String(s)
        } else if Array::is_array(value) {
            Json::Array(Array::from(value).iter().map(|v| convert(&v)).collect())
        } else if value.is_object() {
            let keys = js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>());
            Json::Object(Object(
                keys.iter()
                    .filter_map(|k| {
                        let v = Reflect::get(value, &k).ok()?;
                        Some((k.as_string()?, convert(&v)))
                    })
                    .collect(),
            ))
        } else {
            Json::Null
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_a_document_and_quotes_values_back() {
        let doc =
            Json::parse(r#"{"a": [1, 2.5, "x", null, true], "b": {"c": -3}, "a2": {}}"#).unwrap();
        let obj = doc.as_object().unwrap();
        assert_eq!(obj.get("b").unwrap().to_string(), r#"{"c":-3}"#);
        assert_eq!(
            obj.get("a").unwrap().to_string(),
            r#"[1,2.5,"x",null,true]"#
        );
        assert_eq!(obj.get("nope"), None);
        assert!(Json::parse("{\"a\": }").unwrap_err().contains("line 1"));
    }

    #[test]
    fn numbers_read_as_written() {
        for (n, text) in [
            (32768.0, "32768"),
            (32.768, "32.768"),
            (-0.5, "-0.5"),
            (0.0, "0"),
            (4294967296.0, "4294967296"),
            (1.0000000001, "1"),
        ] {
            assert_eq!(number_text(n), text);
        }
    }

    #[test]
    fn a_repeated_key_means_its_last_value() {
        let doc = Json::parse(r#"{"k": 1, "k": 2}"#).unwrap();
        assert_eq!(doc.as_object().unwrap().get("k"), Some(&Json::Number(2.0)));
    }
}
