//! What a board running MicroPython says about itself, for the device card: the banner's
//! version, build date, board and MCU, and `sys.platform`, the filesystem's free bytes and its
//! number of entries where the firmware can tell.

use super::{Banner, Repl, Result};
use crate::port::Port;

/// The device card's facts about a MicroPython board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardFacts {
    pub version: String,
    pub date: String,
    pub board: String,
    pub mcu: String,
    /// `sys.platform`: `rp2`, `esp32`, `pyboard`, …
    pub platform: String,
    /// Free bytes on the filesystem at `/`, if the firmware reports them.
    pub free: Option<u64>,
    /// Entries in `/`, if it can list them.
    pub files: Option<u32>,
    /// `machine.unique_id()` in hex, if the firmware has it.
    pub unique_id: Option<String>,
}

/// Prints `platform free files uid` in one line, each -1 when unknown.
const ASK: &str = "import sys, os\n\
try:\n s = os.statvfs('/'); f = s[0] * s[3]\n\
except Exception:\n f = -1\n\
try:\n n = len(os.listdir('/'))\n\
except Exception:\n n = -1\n\
try:\n import machine; u = ''.join('%02x' % b for b in machine.unique_id())\n\
except Exception:\n u = -1\n\
print(sys.platform, f, n, u)";

impl<P: Port> Repl<P> {
    /// The board's facts, given the banner it printed.
    pub async fn facts(&mut self, banner: &Banner) -> Result<BoardFacts> {
        let out = self
            .exec(ASK, std::time::Duration::from_secs(3))
            .await?
            .ok()?;
        Ok(parse(banner, &out.stdout_text()))
    }
}

impl BoardFacts {
    /// One line for the page (the card is its own module): the fields, tab-separated.
    pub fn encode(&self) -> String {
        let number = |n: Option<u64>| n.map_or(String::new(), |n| n.to_string());
        [
            self.version.as_str(),
            &self.date,
            &self.board,
            &self.mcu,
            &self.platform,
            &number(self.free),
            &number(self.files.map(u64::from)),
            self.unique_id.as_deref().unwrap_or(""),
        ]
        .map(|f| f.replace('\t', " "))
        .join("\t")
    }

    /// The inverse of [`BoardFacts::encode`].
    pub fn decode(line: &str) -> Option<BoardFacts> {
        let f: Vec<&str> = line.split('\t').collect();
        let [version, date, board, mcu, platform, free, files, unique_id] = f[..] else {
            return None;
        };
        Some(BoardFacts {
            version: version.into(),
            date: date.into(),
            board: board.into(),
            mcu: mcu.into(),
            platform: platform.into(),
            free: free.parse().ok(),
            files: files.parse().ok(),
            unique_id: (!unique_id.is_empty()).then(|| unique_id.to_string()),
        })
    }
}

/// Reads [`ASK`]'s answer.
pub fn parse(banner: &Banner, answer: &str) -> BoardFacts {
    let mut words = answer.split_whitespace();
    let platform = words.next().unwrap_or_default().to_string();
    let known = |w: Option<&str>| w.and_then(|w| w.parse::<i64>().ok()).filter(|v| *v >= 0);
    BoardFacts {
        version: banner.version.clone(),
        date: banner.date.clone(),
        board: banner.board.clone(),
        mcu: banner.mcu.clone(),
        platform,
        free: known(words.next()).map(|v| v as u64),
        files: known(words.next()).map(|v| v as u32),
        unique_id: words
            .next()
            .filter(|u| u.len() >= 2 && u.chars().all(|c| c.is_ascii_hexdigit()))
            .map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_one_line_answer() {
        let banner =
            Banner::find("MicroPython v1.24.1 on 2024-11-29; Raspberry Pi Pico with RP2040\r\n")
                .unwrap();
        let f = parse(&banner, "rp2 1347584 3 e6613852834a202c\r\n");
        assert_eq!(f.unique_id.as_deref(), Some("e6613852834a202c"));
        assert_eq!(
            (
                f.platform.as_str(),
                f.free,
                f.files,
                f.mcu.as_str(),
                f.board.as_str()
            ),
            (
                "rp2",
                Some(1_347_584),
                Some(3),
                "RP2040",
                "Raspberry Pi Pico"
            )
        );
        let g = parse(&banner, "webassembly -1 -1");
        assert_eq!((g.free, g.files), (None, None));
        assert_eq!(BoardFacts::decode(&f.encode()), Some(f));
        assert_eq!(BoardFacts::decode(&g.encode()), Some(g));
        assert_eq!(BoardFacts::decode("v1\tno"), None);
    }
}
