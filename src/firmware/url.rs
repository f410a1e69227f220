//! Resolving a manifest's part paths against the manifest's URL, as a browser would
//! (RFC 3986 §5.2, enough of it for http(s) and relative paths). Pure, so it is tested natively.

/// Resolves `reference` (absolute URL, `//host/x`, `/abs`, `./x`, `x`, `../x`, `?q`) against `base`.
/// A relative `base` (e.g. `fw/manifest.json`) yields a relative result.
pub fn join_url(base: &str, reference: &str) -> String {
    let reference = reference.trim();
    if scheme_len(reference).is_some() {
        return reference.to_string();
    }
    let base = base.split('#').next().unwrap_or("");
    let (scheme, rest) = match scheme_len(base) {
        Some(n) => base.split_at(n + 1),
        None => ("", base),
    };
    if reference.starts_with("//") {
        return format!("{scheme}{reference}");
    }
    let (authority, base_path_q) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find(['/', '?']).map_or(rest.len(), |i| i + 2);
            rest.split_at(end)
        }
        None => ("", rest),
    };
    let (base_path, base_query) = match base_path_q.find('?') {
        Some(i) => base_path_q.split_at(i),
        None => (base_path_q, ""),
    };
    let base_path = if base_path.is_empty() && !authority.is_empty() {
        "/"
    } else {
        base_path
    };
    let split = reference.find(['?', '#']).unwrap_or(reference.len());
    let (ref_path, suffix) = reference.split_at(split);
    if ref_path.is_empty() {
        let suffix = if suffix.starts_with('#') {
            format!("{base_query}{suffix}")
        } else {
            suffix.to_string()
        };
        return format!("{scheme}{authority}{base_path}{suffix}");
    }
    let merged = if ref_path.starts_with('/') {
        ref_path.to_string()
    } else {
        let dir = base_path.rfind('/').map_or("", |i| &base_path[..=i]);
        format!("{dir}{ref_path}")
    };
    format!("{scheme}{authority}{}{suffix}", remove_dots(&merged))
}

/// Length of a valid scheme before `:` (`https`, `blob`, `data`), if `s` starts with one.
fn scheme_len(s: &str) -> Option<usize> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then_some(colon)
}

/// Removes `.` and `..` segments; `..` never climbs above the root of an absolute path.
fn remove_dots(path: &str) -> String {
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    let mut out: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        if i == 0 && absolute {
            continue;
        }
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                match out.last() {
                    Some(&l) if l != ".." => {
                        out.pop();
                    }
                    _ if !absolute => out.push(".."),
                    _ => {}
                }
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut joined = out.join("/");
    if trailing_slash && !joined.is_empty() {
        joined.push('/');
    }
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The base a manifest's parts resolve against: the manifest URL, except for `blob:` and
/// `data:` manifests, which (as in ESP Web Tools) resolve against the page.
pub fn manifest_base<'a>(manifest_url: &'a str, page_url: &'a str) -> &'a str {
    let lower = manifest_url.trim_start().to_ascii_lowercase();
    if lower.starts_with("blob:") || lower.starts_with("data:") {
        page_url
    } else {
        manifest_url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://example.org/fw/v1/manifest.json?x=1#top";

    #[test]
    fn relative_paths_resolve_against_the_manifest_directory() {
        let cases = [
            ("x.bin", "https://example.org/fw/v1/x.bin"),
            ("./x.bin", "https://example.org/fw/v1/x.bin"),
            ("sub/x.bin", "https://example.org/fw/v1/sub/x.bin"),
            ("../x.bin", "https://example.org/fw/x.bin"),
            ("../../../../x.bin", "https://example.org/x.bin"),
            (
                "./a/./b/../x.bin?raw=1",
                "https://example.org/fw/v1/a/x.bin?raw=1",
            ),
            ("/abs.bin", "https://example.org/abs.bin"),
            ("//cdn.example.com/x.bin", "https://cdn.example.com/x.bin"),
            ("https://other.net/x.bin", "https://other.net/x.bin"),
            ("  HTTP://other.net/x.bin ", "HTTP://other.net/x.bin"),
            ("?v=2", "https://example.org/fw/v1/manifest.json?v=2"),
        ];
        for (reference, want) in cases {
            assert_eq!(join_url(BASE, reference), want, "{reference}");
        }
    }

    #[test]
    fn hosts_without_a_path_and_ports_work() {
        assert_eq!(join_url("https://h.io", "x.bin"), "https://h.io/x.bin");
        assert_eq!(
            join_url("http://127.0.0.1:8080/m.json", "f/x.bin"),
            "http://127.0.0.1:8080/f/x.bin"
        );
        assert_eq!(join_url("https://h.io?q", "x.bin"), "https://h.io/x.bin");
    }

    #[test]
    fn relative_bases_stay_relative() {
        assert_eq!(join_url("fw/manifest.json", "./x.bin"), "fw/x.bin");
        assert_eq!(join_url("manifest.json", "x.bin"), "x.bin");
        assert_eq!(join_url("/m/manifest.json", "../x.bin"), "/x.bin");
        assert_eq!(join_url("a/manifest.json", "../../x.bin"), "../x.bin");
    }

    #[test]
    fn blob_and_data_manifests_resolve_against_the_page() {
        let page = "https://flash.example/?manifest=blob";
        assert_eq!(manifest_base("blob:https://flash.example/1234", page), page);
        assert_eq!(manifest_base("data:application/json,{}", page), page);
        assert_eq!(manifest_base(BASE, page), BASE);
        assert_eq!(join_url(page, "x.bin"), "https://flash.example/x.bin");
    }
}
