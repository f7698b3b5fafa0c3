//! Structured values read from fuzz bytes: every byte string is a valid
//! input, read as far as it goes and as zeros after its end.

/// A reader of structured values from fuzz bytes.
#[derive(Debug)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Reads `data`.
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte, 0 past the end.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A byte string of at most `max` bytes, its length in one byte.
    pub fn short_bytes(&mut self, max: usize) -> &'a [u8] {
        let n = usize::from(self.byte()) % (max + 1);
        self.bytes(n)
    }

    /// A count, usually small: a byte below 0xf0 is itself modulo `max +
    /// 1`; above, a `u32` follows.
    pub fn count(&mut self, max: usize) -> usize {
        let b = self.byte();
        let n = if b < 0xf0 {
            usize::from(b)
        } else {
            self.u32() as usize
        };
        n % (max + 1)
    }

    /// An index for a collection of `n` items: mostly inside it, sometimes
    /// just past it, sometimes any `u32`.
    pub fn index(&mut self, n: usize) -> u32 {
        let b = self.byte();
        match b >> 5 {
            0..=5 => (usize::from(b) % (n + 1)) as u32,
            6 => self.u32(),
            _ => match b & 7 {
                0 => u32::MAX,
                1 => i32::MAX as u32,
                2 => 0x8000_0000,
                3 => n as u32,
                4 => (n as u32).wrapping_sub(1),
                5 => (n as u32).wrapping_add(1),
                _ => 0,
            },
        }
    }
}
