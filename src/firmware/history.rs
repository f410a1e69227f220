//! The device history as the history view reads it (the page records entries through
//! `web::history`; they are kept in the browser's IndexedDB): the boards in it, the CSV export,
//! and which firmware "Roll back" reinstalls.

/// One flash or board check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// ISO 8601, UTC.
    pub date: String,
    /// "flash" or "check".
    pub kind: String,
    pub board: String,
    /// MAC or `machine.unique_id()`.
    pub id: String,
    pub usb: String,
    pub firmware: String,
    /// The URL the firmware came from, or empty for a file from this computer.
    pub source: String,
    pub version: String,
    pub sha256: String,
    pub verified: bool,
}

/// The CSV columns, in order.
pub const COLUMNS: [&str; 10] = [
    "date", "kind", "board", "id", "usb", "firmware", "source", "version", "sha256", "verified",
];

/// The records as CSV (RFC 4180 quoting, by the `csv` crate), with a header row.
pub fn to_csv(records: &[Record]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(COLUMNS);
    for r in records {
        let _ = out.write_record([
            r.date.as_str(),
            &r.kind,
            &r.board,
            &r.id,
            &r.usb,
            &r.firmware,
            &r.source,
            &r.version,
            &r.sha256,
            if r.verified { "yes" } else { "no" },
        ]);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Reads CSV written by [`to_csv`] back (for the round-trip check and for organisers' tools).
pub fn from_csv(text: &str) -> Result<Vec<Record>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    if header != COLUMNS {
        return Err(format!(
            "not a webflash history: its columns are {header:?}"
        ));
    }
    reader
        .records()
        .map(|row| {
            let row = row.map_err(|e| e.to_string())?;
            let f = |i: usize| row.get(i).unwrap_or("").to_string();
            Ok(Record {
                date: f(0),
                kind: f(1),
                board: f(2),
                id: f(3),
                usb: f(4),
                firmware: f(5),
                source: f(6),
                version: f(7),
                sha256: f(8),
                verified: f(9) == "yes",
            })
        })
        .collect()
}

/// The boards in the history (id, name as last seen), newest first.
pub fn boards(records: &[Record]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in records.iter().rev().filter(|r| !r.id.is_empty()) {
        if !out.iter().any(|(id, _)| *id == r.id) {
            out.push((r.id.clone(), r.board.clone()));
        }
    }
    out
}

/// What "Roll back" reinstalls on board `id`: the newest verified flash of a firmware other
/// than the one flashed last. `None` when the board has had only one firmware here.
pub fn rollback<'a>(records: &'a [Record], id: &str) -> Option<&'a Record> {
    let mut flashes = records
        .iter()
        .rev()
        .filter(|r| r.id == id && r.kind == "flash" && r.verified);
    let latest = flashes.next()?;
    flashes.find(|r| r.sha256 != latest.sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flash(date: &str, id: &str, sha: &str, verified: bool) -> Record {
        Record {
            date: date.into(),
            kind: "flash".into(),
            board: "ESP32".into(),
            id: id.into(),
            firmware: format!("fw-{sha}.bin"),
            sha256: sha.into(),
            verified,
            ..Record::default()
        }
    }

    #[test]
    fn csv_round_trips_with_quotes_commas_and_newlines() {
        let mut odd = flash("2026-12-06T15:00:00.000Z", "24:0a:c4:00:00:01", "aa", true);
        odd.firmware = "my \"best\", firmware\nv2.bin".into();
        odd.usb = "CP210x USB-UART (10C4:EA60)".into();
        let records = vec![odd, flash("2026-12-06T16:00:00.000Z", "x", "bb", false)];
        let text = to_csv(&records);
        assert!(
            text.starts_with("date,kind,board,id,usb,firmware,source,version,sha256,verified\n")
        );
        assert_eq!(from_csv(&text).unwrap(), records);
        assert!(from_csv("a,b\n1,2\n")
            .unwrap_err()
            .contains("not a webflash history"));
    }

    #[test]
    fn roll_back_goes_to_the_firmware_before_the_last_one() {
        let h = vec![
            flash("1", "A", "old", true),
            flash("2", "B", "other-board", true),
            flash("3", "A", "new", false),
            flash("4", "A", "new", true),
            flash("5", "A", "new", true),
        ];
        assert_eq!(rollback(&h, "A").map(|r| r.sha256.as_str()), Some("old"));
        assert_eq!(rollback(&h, "B"), None, "one firmware only");
        assert_eq!(rollback(&h, "C"), None);
        let ids: Vec<_> = boards(&h).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["A", "B"]);
    }
}
