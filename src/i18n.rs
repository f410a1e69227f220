//! Every text a person reads goes through here, in the page's language.
//!
//! The gettext convention: the English text, written once where it is used, is the message id.
//! `t("Connect")` is "Connect" on an English page and "Verbinden" on a German one;
//! [`tf!`](crate::tf) fills named places, `tf!("Flashed {name}.", name = file)`, after the
//! translation (a translator may move them). The translations are gettext PO files,
//! `i18n/<lang>.po`, edited with any PO tool; the build turns each into `dist/i18n/<lang>.json`
//! and the page fetches the one it needs before it starts (`web/modules.js`), so an English page
//! downloads none (each file is keyed by a hash of the English; the MicroPython card's and the
//! organisers' tools' own texts come with those modules). `tests/e2e/languages.test.mjs` fails when
//! a text in the sources has no translation in some language, or a translation lost or gained a
//! `{place}`; `scripts/i18n.mjs` finds the texts (the forms it knows: `t("…")`, `mark("…")`,
//! `tf!("…", …)`, JS `t("…")`, `data-t` in index.html: one plain literal each).
//!
//! Numbers go through [`number`]: the browser's `Intl.NumberFormat` for the page's language
//! (1,536 / 1.536 / 1 536), plain digits natively.
//!
//! Natively (the simulators, the tools, the tests) every text is English.

use std::fmt::Display;

/// `english` in the page's language (itself when the page is English or has no translation).
#[cfg(not(target_arch = "wasm32"))]
pub fn t(english: &'static str) -> &'static str {
    english
}

/// `english` in the page's language (itself when the page is English or has no translation).
#[cfg(target_arch = "wasm32")]
#[inline(always)]
pub fn t(english: &'static str) -> &'static str {
    // The text comes back as one number (address and length), not through memory: this call is
    // written at every text of the page, and that keeps each a few bytes.
    let found = lookup(english);
    // SAFETY: `lookup` returns the address and length of a `&'static str`.
    unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(
            (found >> 32) as usize as *const u8,
            found as u32 as usize,
        ))
    }
}

/// The translation of `english`, as address << 32 | length; looked up once and kept for the
/// page's life.
#[cfg(target_arch = "wasm32")]
#[inline(never)]
fn lookup(english: &'static str) -> u64 {
    use std::cell::RefCell;
    thread_local! {
        static KNOWN: RefCell<Vec<(usize, &'static str)>> = const { RefCell::new(Vec::new()) };
    }
    let key = english.as_ptr() as usize;
    let s = KNOWN.with(|known| {
        if let Some((_, s)) = known.borrow().iter().find(|(k, _)| *k == key) {
            return *s;
        }
        let s: &'static str = match web::translate(english) {
            Some(s) => Box::leak(s.into_boxed_str()),
            None => english,
        };
        known.borrow_mut().push((key, s));
        s
    });
    ((s.as_ptr() as usize as u64) << 32) | s.len() as u64
}

/// Marks a text in a constant table for translation (the extractor finds it); the page shows
/// it through [`t`].
pub const fn mark(english: &'static str) -> &'static str {
    english
}

/// Which argument fills place `name`: its index among the distinct `{place}`s of `english`.
fn argument(english: &str, name: &str) -> Option<usize> {
    places(english.as_bytes(), name.as_bytes()).0
}

/// `english` translated, its places filled: `args[i]` is the `i`th distinct place of `english`
/// in the order they first appear there ([`tf!`](crate::tf) checks that order when it compiles).
pub fn fill(english: &'static str, args: &[&dyn Display]) -> String {
    use std::fmt::Write;
    let mut rest = t(english);
    let mut out = String::with_capacity(rest.len() + 16);
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open + 1..];
        let value = tail.find('}').and_then(|close| {
            let i = argument(english, &tail[..close])?;
            Some((close, args.get(i)?))
        });
        match value {
            Some((close, value)) => {
                let _ = write!(out, "{value}");
                rest = &tail[close + 1..];
            }
            None => {
                out.push('{');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `names` are the distinct `{place}`s of `text` in the order they first appear (for
/// [`tf!`](crate::tf), at compile time).
pub const fn places_are(text: &str, names: &[&str]) -> bool {
    let t = text.as_bytes();
    let mut i = 0;
    while i < names.len() {
        if !matches!(places(t, names[i].as_bytes()).0, Some(k) if k == i) {
            return false;
        }
        i += 1;
    }
    places(t, b"").1 == names.len()
}

/// Among the distinct `{place}`s of `t`, in the order they first appear: the index of `name`,
/// and how many there are. (A `const fn`: [`tf!`] checks its names with it when it compiles.)
const fn places(t: &[u8], name: &[u8]) -> (Option<usize>, usize) {
    let (mut at, mut n, mut found) = (0, 0, None);
    while let Some((start, end)) = next_place(t, at) {
        if first_time(t, start, end) {
            if found.is_none() && same(t, start, end, name) {
                found = Some(n);
            }
            n += 1;
        }
        at = end + 1;
    }
    (found, n)
}

/// The next `{place}` of `t` from byte `from` (a name of letters, digits and `_`): where its
/// name starts and ends.
const fn next_place(t: &[u8], mut from: usize) -> Option<(usize, usize)> {
    while from < t.len() {
        if t[from] == b'{' {
            let mut end = from + 1;
            while end < t.len() && (t[end].is_ascii_alphanumeric() || t[end] == b'_') {
                end += 1;
            }
            if end > from + 1 && end < t.len() && t[end] == b'}' {
                return Some((from + 1, end));
            }
        }
        from += 1;
    }
    None
}

/// Whether the place named `t[start..end]` does not appear before `start`.
const fn first_time(t: &[u8], start: usize, end: usize) -> bool {
    let mut at = 0;
    while let Some((s, e)) = next_place(t, at) {
        if s >= start {
            return true;
        }
        let (mut k, mut equal) = (0, e - s == end - start);
        while equal && k < e - s {
            equal = t[s + k] == t[start + k];
            k += 1;
        }
        if equal {
            return false;
        }
        at = e + 1;
    }
    true
}

/// Whether `t[from..to]` is `name`.
const fn same(t: &[u8], from: usize, to: usize, name: &[u8]) -> bool {
    if name.len() != to - from {
        return false;
    }
    let mut k = 0;
    while k < name.len() {
        if name[k] != t[from + k] {
            return false;
        }
        k += 1;
    }
    true
}

/// A translated text with named places: `tf!("Flashed {name} ({size}).", name = n, size = s)`.
/// The names follow the order in which the places first appear in the English text (a compile
/// error says so otherwise); the binary keeps no names, only the values.
#[macro_export]
macro_rules! tf {
    ($english:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        const _: () = assert!(
            $crate::i18n::places_are($english, &[$(stringify!($name)),*]),
            "tf!: name every place of the text, in the order they first appear"
        );
        $crate::i18n::fill($english, &[$(&$value as &dyn ::std::fmt::Display),*])
    }};
}

/// A whole number written the page's way: "1,536" in English, "1.536" in German.
pub fn number(n: u64) -> String {
    #[cfg(target_arch = "wasm32")]
    if n >= 1000 {
        return web::format_number(n as f64, 0);
    }
    n.to_string()
}

/// `value` with one decimal, written the page's way: "2.5" in English, "2,5" in German.
/// (The browser formats it: Rust's float formatting is large in the wasm.)
pub fn tenths(value: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web::format_number(value.max(0.0), 1)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let t = (value.max(0.0) * 10.0).round() as u64;
        format!("{}.{}", t / 10, t % 10)
    }
}

/// A size in whole kilobytes (rounded up), written the page's way: "1,536 KB", "1 536 Ko".
pub fn kb(bytes: u64) -> String {
    crate::tf!("{n} KB", n = number(bytes.div_ceil(1024)))
}

#[cfg(target_arch = "wasm32")]
mod web {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/web/modules.js")]
    extern "C" {
        /// The page language's translation of `english`, if it has one.
        pub fn translate(english: &str) -> Option<String>;
        /// `n` written the page's way (Intl.NumberFormat), with `digits` decimals.
        #[wasm_bindgen(js_name = formatNumber)]
        pub fn format_number(n: f64, digits: u32) -> String;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_filled_by_name_and_unknown_braces_stay() {
        let out = crate::tf!("{b} then {a} and {b}, {c unknown}", b = "two", a = 1);
        assert_eq!(out, "two then 1 and two, {c unknown}");
        assert!(places_are("{b} then {a} and {b}", &["b", "a"]));
        assert!(!places_are("{b} then {a}", &["a", "b"]));
        assert!(!places_are("{b} then {a}", &["b"]));
        assert!(!places_are("{b}", &["b", "a"]));
        assert!(places_are("no {} places {x y}", &[]));
        assert_eq!(argument("{b} {a} {b}", "a"), Some(1));
        assert_eq!(argument("{b} {a} {b}", "b"), Some(0));
        assert_eq!(argument("{b} {a}", "c"), None);
        assert_eq!(kb(1), "1 KB");
        assert_eq!(kb(1025), "2 KB");
        assert_eq!(tenths(2.54), "2.5");
        assert_eq!(tenths(-1.0), "0.0");
        assert_eq!(crate::tf!("no places"), "no places");
        assert_eq!(crate::tf!("{unclosed"), "{unclosed");
    }
}
