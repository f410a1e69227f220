//! The DfuSe memory-layout string a DFU interface names itself with, e.g. the STM32F405's
//! `@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg` (`boards.md` §4.5): where each
//! sector starts, how big it is, and whether it may be erased and written. Pure.

use super::file::DfuFile;
use crate::i18n::number;

/// A run of equal sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub start: u32,
    pub sector_size: u32,
    pub sectors: u32,
    pub readable: bool,
    pub erasable: bool,
    pub writable: bool,
}

impl Segment {
    pub fn end(&self) -> u64 {
        self.start as u64 + self.sector_size as u64 * self.sectors as u64
    }
}

/// A memory: its name and sectors in address order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub name: String,
    pub segments: Vec<Segment>,
}

/// The STM32F405's internal flash (the pyboard), as its ROM and mboot describe it.
pub const STM32F405: &str = "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg";

/// Why an image does not fit a memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FitError {
    /// Bytes at `address` fall outside the board's flash.
    Outside { address: u32, len: usize },
    /// Bytes at `address` would go into sectors that cannot be erased or written (the boot
    /// loader, option bytes).
    Protected { address: u32 },
    /// Two elements cover the same bytes.
    Overlap { address: u32 },
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitError::Outside { address, len } => f.write_str(&crate::tf!("This .dfu file puts {len} bytes at {address}, outside this board's flash: it is for another board. Choose the .dfu file for your board. Nothing was written.", len = number(*len as u64), address = format!("0x{address:08X}"))),
            FitError::Protected { address } => f.write_str(&crate::tf!("This .dfu file writes at {address}, which this board protects (it cannot be erased or written over USB). Choose the .dfu file for your board. Nothing was written.", address = format!("0x{address:08X}"))),
            FitError::Overlap { address } => f.write_str(&crate::tf!("This .dfu file writes the bytes at {address} twice (its parts overlap): it is badly made. Nothing was written.", address = format!("0x{address:08X}"))),
        }
    }
}

impl std::error::Error for FitError {}

/// Parses a layout string; `None` when it does not follow the grammar.
pub fn parse(text: &str) -> Option<Layout> {
    let rest = text.trim().strip_prefix('@')?;
    let mut parts = rest.split('/');
    let name = parts.next()?.trim().to_string();
    let mut segments = Vec::new();
    let parts: Vec<&str> = parts.collect();
    if parts.is_empty() || parts.len() % 2 != 0 {
        return None;
    }
    for pair in parts.chunks(2) {
        let start = pair[0].trim();
        let hex = start
            .strip_prefix("0x")
            .or_else(|| start.strip_prefix("0X"))?;
        let mut at = u32::from_str_radix(hex, 16).ok()?;
        for run in pair[1].split(',') {
            let run = run.trim_start();
            let (count, rest) = run.split_once('*')?;
            let sectors: u32 = count.trim().parse().ok()?;
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            let size: u32 = rest[..digits].parse().ok()?;
            let mut tail = rest[digits..].chars();
            let unit = tail.next()?;
            let kind = tail.next()?;
            let scale = match unit {
                ' ' | 'B' => 1,
                'K' => 1024,
                'M' => 1024 * 1024,
                _ => return None,
            };
            if !('a'..='g').contains(&kind) {
                return None;
            }
            let bits = kind as u8 - b'a' + 1;
            let sector_size = size.checked_mul(scale)?;
            segments.push(Segment {
                start: at,
                sector_size,
                sectors,
                readable: bits & 1 != 0,
                erasable: bits & 2 != 0,
                writable: bits & 4 != 0,
            });
            at = at.checked_add(sector_size.checked_mul(sectors)?)?;
        }
    }
    Some(Layout { name, segments })
}

impl Layout {
    /// The sector holding `address`: (start, size, segment).
    fn sector(&self, address: u32) -> Option<(u32, u32, &Segment)> {
        let seg = self
            .segments
            .iter()
            .find(|s| address >= s.start && (address as u64) < s.end())?;
        let index = (address - seg.start) / seg.sector_size;
        Some((seg.start + index * seg.sector_size, seg.sector_size, seg))
    }

    /// Checks that every element of `file` lands in erasable, writable sectors, without overlaps,
    /// and returns the start of every sector to erase (each once, in address order).
    pub fn sectors_to_erase(&self, file: &DfuFile) -> Result<Vec<u32>, FitError> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        let mut sectors = Vec::new();
        for (_, e) in file.elements() {
            if e.data.is_empty() {
                continue;
            }
            let (start, end) = (e.address as u64, e.address as u64 + e.data.len() as u64);
            if let Some(&(s, _)) = ranges.iter().find(|(s, t)| start < *t && *s < end) {
                return Err(FitError::Overlap {
                    address: s.max(start) as u32,
                });
            }
            ranges.push((start, end));
            let mut at = start;
            while at < end {
                let outside = FitError::Outside {
                    address: e.address,
                    len: e.data.len(),
                };
                let addr = u32::try_from(at).map_err(|_| outside.clone())?;
                let (sector, size, seg) = self.sector(addr).ok_or(outside)?;
                if !(seg.erasable && seg.writable) {
                    return Err(FitError::Protected { address: addr });
                }
                sectors.push(sector);
                at = sector as u64 + size as u64;
            }
        }
        sectors.sort_unstable();
        sectors.dedup();
        Ok(sectors)
    }
}

#[cfg(test)]
mod tests {
    use super::super::file::{DfuFile, Element, Target};
    use super::*;

    fn file(elements: &[(u32, usize)]) -> DfuFile {
        DfuFile {
            targets: vec![Target {
                alt: 0,
                name: None,
                elements: elements
                    .iter()
                    .map(|&(address, len)| Element {
                        address,
                        data: vec![1; len],
                    })
                    .collect(),
            }],
            vendor: 0x0483,
            product: 0xDF11,
            device: 0,
        }
    }

    #[test]
    fn reads_the_pyboards_flash() {
        let l = parse(STM32F405).unwrap();
        assert_eq!(l.name, "Internal Flash");
        assert_eq!(l.segments.len(), 3);
        assert_eq!(l.segments[0].sector_size, 16 * 1024);
        assert_eq!(l.segments[2].end(), 0x0810_0000);
        assert!(l
            .segments
            .iter()
            .all(|s| s.erasable && s.writable && s.readable));
        let option_bytes = parse("@Option Bytes  /0x1FFFC000/01*016 e").unwrap();
        let s = option_bytes.segments[0];
        assert_eq!((s.sector_size, s.erasable, s.writable), (16, false, true));
        assert!(parse("Internal Flash/0x08000000/04*016Kg").is_none());
        assert!(parse("@Flash/0x08000000/04*016Kz").is_none());
    }

    #[test]
    fn micropythons_two_elements_leave_the_filesystem_sectors_alone() {
        let l = parse(STM32F405).unwrap();
        // Sector 0 (vectors) and the code from 0x08020000; sectors 1-4 hold the filesystem.
        let sectors = l
            .sectors_to_erase(&file(&[(0x0800_0000, 14_000), (0x0802_0000, 300_000)]))
            .unwrap();
        assert_eq!(
            sectors,
            vec![0x0800_0000, 0x0802_0000, 0x0804_0000, 0x0806_0000]
        );
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let l = parse(STM32F405).unwrap();
        assert!(matches!(
            l.sectors_to_erase(&file(&[(0x0810_0000 - 10, 100)])),
            Err(FitError::Outside { .. })
        ));
        assert!(matches!(
            l.sectors_to_erase(&file(&[(0x2000_0000, 4)])),
            Err(FitError::Outside { .. })
        ));
        assert_eq!(
            l.sectors_to_erase(&file(&[(0x0800_0000, 100), (0x0800_0050, 10)])),
            Err(FitError::Overlap {
                address: 0x0800_0050
            })
        );
        let guarded = parse("@Flash/0x08000000/01*016Ka,03*016Kg").unwrap();
        assert_eq!(
            guarded.sectors_to_erase(&file(&[(0x0800_0000, 4)])),
            Err(FitError::Protected {
                address: 0x0800_0000
            })
        );
    }
}
