//! A NOR flash chip: erase sets whole 4 KiB sectors to 0xFF; programming can only clear bits.
//! Writing over data that was not erased therefore corrupts it, as on a real chip.

/// Erase unit.
pub const SECTOR: usize = 4096;
/// Large erase unit.
pub const BLOCK: usize = 64 * 1024;

/// The flash contents.
#[derive(Debug, Clone)]
pub struct NorFlash {
    data: Vec<u8>,
    generation: u64,
    /// Fault: erases silently do nothing (a worn or write-protected chip).
    pub erase_fails: bool,
}

impl NorFlash {
    /// A blank chip of `size` bytes.
    pub fn new(size: usize) -> Self {
        NorFlash {
            data: vec![0xFF; size],
            generation: 0,
            erase_fails: false,
        }
    }

    pub fn size(&self) -> usize {
        self.data.len()
    }

    pub fn contents(&self) -> &[u8] {
        &self.data
    }

    /// Increments on every change, so a file mirror knows when to save.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Replaces the contents (e.g. loaded from a file); extra bytes are ignored.
    pub fn load(&mut self, image: &[u8]) {
        let n = image.len().min(self.data.len());
        self.data[..n].copy_from_slice(&image[..n]);
        self.data[n..].fill(0xFF);
        self.generation += 1;
    }

    /// Erases the sectors overlapping `[addr, addr + len)`. Returns how many sectors were erased.
    pub fn erase(&mut self, addr: usize, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        let start = addr / SECTOR * SECTOR;
        let end = (addr + len).div_ceil(SECTOR) * SECTOR;
        let end = end.min(self.data.len());
        if start >= end {
            return 0;
        }
        if !self.erase_fails {
            self.data[start..end].fill(0xFF);
        }
        self.generation += 1;
        (end - start) / SECTOR
    }

    /// Erases everything.
    pub fn erase_all(&mut self) {
        if !self.erase_fails {
            self.data.fill(0xFF);
        }
        self.generation += 1;
    }

    /// Programs `bytes` at `addr` (bits can only go from 1 to 0). Returns false past the end.
    pub fn program(&mut self, addr: usize, bytes: &[u8]) -> bool {
        let Some(dst) = self.data.get_mut(addr..addr + bytes.len()) else {
            return false;
        };
        for (d, s) in dst.iter_mut().zip(bytes) {
            *d &= *s;
        }
        self.generation += 1;
        true
    }

    /// True if every byte of the range is 0xFF.
    pub fn is_blank(&self, addr: usize, len: usize) -> bool {
        self.data
            .get(addr..addr + len)
            .is_some_and(|r| r.iter().all(|&b| b == 0xFF))
    }

    pub fn read(&self, addr: usize, len: usize) -> Option<&[u8]> {
        self.data.get(addr..addr + len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programming_without_erase_only_clears_bits() {
        let mut f = NorFlash::new(2 * SECTOR);
        assert!(f.program(10, &[0xF0]));
        assert!(f.program(10, &[0x0F]));
        assert_eq!(f.read(10, 1).unwrap(), &[0x00]);
        assert_eq!(f.erase(10, 1), 1);
        assert_eq!(f.read(10, 1).unwrap(), &[0xFF]);
    }

    #[test]
    fn erase_covers_whole_sectors() {
        let mut f = NorFlash::new(4 * SECTOR);
        f.program(0, &vec![0; 4 * SECTOR]);
        assert_eq!(f.erase(SECTOR + 5, 10), 1);
        assert!(f.is_blank(SECTOR, SECTOR));
        assert!(!f.is_blank(0, 1) && !f.is_blank(2 * SECTOR, 1));
        assert!(!f.program(4 * SECTOR - 1, &[0, 0]));
    }
}
