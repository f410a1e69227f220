//! SLIP framing (RFC 1055 as Espressif uses it): every request and response is one frame
//! between `0xC0` delimiters, with `0xC0`/`0xDB` inside escaped as `DB DC`/`DB DD`.
//!
//! The [`Decoder`] is streaming and forgiving: text the chip prints outside frames (boot log,
//! panic messages) is kept separately as "noise" so the loader can show or classify it.

const END: u8 = 0xC0;
const ESC: u8 = 0xDB;
const ESC_END: u8 = 0xDC;
const ESC_ESC: u8 = 0xDD;

/// Frames `payload` for the wire.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload.len() / 32 + 2);
    out.push(END);
    for &b in payload {
        match b {
            END => out.extend_from_slice(&[ESC, ESC_END]),
            ESC => out.extend_from_slice(&[ESC, ESC_ESC]),
            _ => out.push(b),
        }
    }
    out.push(END);
    out
}

/// What the decoder found in the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A complete frame's payload.
    Frame(Vec<u8>),
    /// A frame that contained an invalid escape sequence (dropped; the stream resynchronises).
    BadFrame,
}

/// Incremental SLIP decoder.
#[derive(Debug, Default)]
pub struct Decoder {
    in_frame: bool,
    escaped: bool,
    bad: bool,
    current: Vec<u8>,
    items: std::collections::VecDeque<Item>,
    noise: Vec<u8>,
}

/// The most noise kept; older bytes are dropped (a chatty app must not grow memory forever).
const NOISE_LIMIT: usize = 16 * 1024;

impl Decoder {
    /// A decoder waiting for the first frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push_byte(b);
        }
        if self.noise.len() > NOISE_LIMIT {
            let cut = self.noise.len() - NOISE_LIMIT;
            self.noise.drain(..cut);
        }
    }

    fn push_byte(&mut self, b: u8) {
        if !self.in_frame {
            if b == END {
                self.in_frame = true;
                self.current.clear();
                self.bad = false;
                self.escaped = false;
            } else {
                self.noise.push(b);
            }
            return;
        }
        if self.escaped {
            self.escaped = false;
            match b {
                ESC_END => self.current.push(END),
                ESC_ESC => self.current.push(ESC),
                _ => self.bad = true,
            }
            return;
        }
        match b {
            // Back-to-back delimiters: the END of nothing. Treat this END as a frame start.
            END if self.current.is_empty() && !self.bad => {}
            END => {
                let item = if self.bad {
                    Item::BadFrame
                } else {
                    Item::Frame(std::mem::take(&mut self.current))
                };
                self.items.push_back(item);
                self.in_frame = false;
                self.current.clear();
            }
            ESC => self.escaped = true,
            _ => self.current.push(b),
        }
    }

    /// The next decoded frame (or bad frame), if one is complete.
    pub fn next_item(&mut self) -> Option<Item> {
        self.items.pop_front()
    }

    /// Bytes seen outside frames since the last call.
    pub fn take_noise(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.noise)
    }

    /// Forgets partial frames, queued frames and noise (after a reset or baud change).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// True when the decoder is in the middle of a frame.
    pub fn in_frame(&self) -> bool {
        self.in_frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_delimiters_inside_the_frame() {
        assert_eq!(
            encode(&[1, 0xC0, 2, 0xDB, 3]),
            vec![0xC0, 1, 0xDB, 0xDC, 2, 0xDB, 0xDD, 3, 0xC0]
        );
    }

    #[test]
    fn decodes_what_it_encodes_split_at_every_point() {
        let payload: Vec<u8> = (0..=255u8).chain([0xC0, 0xDB, 0xC0]).collect();
        let wire = encode(&payload);
        for split in 0..wire.len() {
            let mut d = Decoder::new();
            d.push(&wire[..split]);
            d.push(&wire[split..]);
            assert_eq!(
                d.next_item(),
                Some(Item::Frame(payload.clone())),
                "split at {split}"
            );
            assert_eq!(d.next_item(), None);
        }
    }

    #[test]
    fn keeps_boot_text_between_frames_as_noise() {
        let mut d = Decoder::new();
        d.push(b"ets Jun  8 2016\r\nwaiting for download\r\n");
        d.push(&encode(b"\x01\x08"));
        d.push(b"junk");
        assert_eq!(d.next_item(), Some(Item::Frame(vec![1, 8])));
        assert_eq!(
            d.take_noise(),
            b"ets Jun  8 2016\r\nwaiting for download\r\njunk".to_vec()
        );
    }

    #[test]
    fn reports_bad_escape_and_recovers() {
        let mut d = Decoder::new();
        d.push(&[0xC0, 1, 0xDB, 0x01, 2, 0xC0]);
        d.push(&encode(&[9]));
        assert_eq!(d.next_item(), Some(Item::BadFrame));
        assert_eq!(d.next_item(), Some(Item::Frame(vec![9])));
    }

    #[test]
    fn back_to_back_delimiters_do_not_make_empty_frames() {
        let mut d = Decoder::new();
        d.push(&[0xC0, 0xC0, 0xC0, 5, 0xC0]);
        assert_eq!(d.next_item(), Some(Item::Frame(vec![5])));
        assert_eq!(d.next_item(), None);
    }
}
