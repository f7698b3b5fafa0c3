//! A fast deterministic PRNG and the byte-level mutations of the driver.

/// xoshiro256** seeded through SplitMix64: fast, and the same sequence for
/// the same seed on every machine.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
        }
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A small length, most often below 8, sometimes up to `max`.
    pub fn small(&mut self, max: usize) -> usize {
        match self.below(8) {
            0..=4 => self.below(4.min(max + 1)),
            5 | 6 => self.below(16.min(max + 1)),
            _ => self.below(max + 1),
        }
    }
}

/// Integers that break code: boundaries of every width, in both signs.
pub const INTERESTING: &[u64] = &[
    0,
    1,
    2,
    7,
    8,
    16,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0xffff_ffff_ffff_fffe,
    0xffff_ffff_ffff_ffff,
];

/// Numbers in text, for text formats.
const TEXT_NUMBERS: &[&[u8]] = &[
    b"0",
    b"-0",
    b"-1",
    b"1e308",
    b"1e309",
    b"-1e309",
    b"4.9e-324",
    b"0.1",
    b"127",
    b"128",
    b"255",
    b"256",
    b"65535",
    b"4294967295",
    b"4294967296",
    b"9007199254740993",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999999",
    b"nan",
    b"inf",
    b"-inf",
    b"NaN",
    b"Infinity",
];

/// Mutates `data` in place with 1 to 8 stacked mutations, keeping it at
/// most `max_len` bytes. `other` is another corpus input for splicing.
pub fn mutate(
    rng: &mut Rng,
    data: &mut Vec<u8>,
    other: &[u8],
    dictionary: &[&[u8]],
    max_len: usize,
) {
    let rounds = 1 + rng.below(8).min(rng.below(8));
    for _ in 0..rounds {
        mutate_once(rng, data, other, dictionary);
    }
    data.truncate(max_len);
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], dictionary: &[&[u8]]) {
    let len = data.len();
    match rng.below(15) {
        // Flip one bit.
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        // Replace a byte.
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = rng.byte();
        }
        // Insert random bytes.
        2 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.small(16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
            data.splice(at..at, bytes);
        }
        // Delete a run.
        3 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.small(len - at - 1);
            data.drain(at..at + n);
        }
        // Duplicate a run, in place or elsewhere.
        4 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.small(len - at - 1);
            let run = data[at..at + n].to_vec();
            let to = if rng.one_in(2) {
                at
            } else {
                rng.below(len + 1)
            };
            let times = 1 + rng.small(8);
            for _ in 0..times {
                data.splice(to..to, run.iter().copied());
            }
        }
        // Overwrite with an interesting integer of 1, 2, 4 or 8 bytes,
        // little or big endian, possibly negated.
        5 if len > 0 => {
            let mut v = *rng.pick(INTERESTING);
            if rng.one_in(4) {
                v = v.wrapping_neg();
            }
            let width = 1 << rng.below(4);
            let bytes = if rng.one_in(2) {
                v.to_le_bytes()
            } else {
                (v << (64 - 8 * width)).to_be_bytes()
            };
            let at = rng.below(len);
            for (i, b) in bytes[..width].iter().enumerate() {
                if let Some(slot) = data.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
        // Add or subtract a little from a byte or a 32-bit word.
        6 if len > 0 => {
            let at = rng.below(len);
            let delta = 1 + rng.below(16) as u32;
            let neg = rng.one_in(2);
            if at + 4 <= len && rng.one_in(2) {
                let mut w = [0u8; 4];
                w.copy_from_slice(&data[at..at + 4]);
                let mut v = u32::from_le_bytes(w);
                v = if neg {
                    v.wrapping_sub(delta)
                } else {
                    v.wrapping_add(delta)
                };
                data[at..at + 4].copy_from_slice(&v.to_le_bytes());
            } else {
                data[at] = if neg {
                    data[at].wrapping_sub(delta as u8)
                } else {
                    data[at].wrapping_add(delta as u8)
                };
            }
        }
        // Insert or overwrite with a dictionary token.
        7 | 8 if !dictionary.is_empty() => {
            let token = *rng.pick(dictionary);
            let at = rng.below(len + 1);
            if rng.one_in(3) {
                let end = (at + token.len()).min(len);
                data.splice(at..end, token.iter().copied());
            } else {
                data.splice(at..at, token.iter().copied());
            }
        }
        // Replace a run of digits (or insert) with a number written out.
        9 => {
            let number = *rng.pick(TEXT_NUMBERS);
            match data.iter().position(u8::is_ascii_digit) {
                Some(first) if rng.one_in(2) => {
                    let start = first + rng.below(4);
                    let start = start.min(len);
                    let end = data[start..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(len, |n| start + n);
                    data.splice(start..end, number.iter().copied());
                }
                _ => {
                    let at = rng.below(len + 1);
                    data.splice(at..at, number.iter().copied());
                }
            }
        }
        // Splice: a head of this input and a tail of another, or a piece
        // of the other inserted.
        10 | 11 if !other.is_empty() => {
            let from = rng.below(other.len());
            let n = 1 + rng.small(other.len() - from - 1);
            if rng.one_in(2) {
                let at = rng.below(len + 1);
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            } else {
                let at = rng.below(len + 1);
                data.splice(at..at, other[from..from + n].iter().copied());
            }
        }
        // Truncate.
        12 if len > 0 => {
            let at = rng.below(len);
            data.truncate(at);
        }
        // Swap two runs.
        13 if len > 2 => {
            let a = rng.below(len / 2);
            let b = len / 2 + rng.below(len - len / 2);
            let n = 1 + rng.small((b - a).min(len - b) - 1);
            for i in 0..n {
                data.swap(a + i, b + i);
            }
        }
        // Copy a run over another place.
        _ if len > 1 => {
            let from = rng.below(len);
            let to = rng.below(len);
            let n = 1 + rng.small((len - from).min(len - to) - 1);
            data.copy_within(from..from + n, to);
        }
        _ => data.push(rng.byte()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_mutations() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut data = b"{\"a\": [1, 2, 3]}".to_vec();
            for _ in 0..1000 {
                mutate(&mut rng, &mut data, b"other input", &[b"tok"], 256);
            }
            data
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn mutations_stay_in_bounds() {
        let mut rng = Rng::new(1);
        let mut data = Vec::new();
        for i in 0..100_000 {
            if i % 1000 == 0 {
                data.clear();
            }
            mutate(&mut rng, &mut data, b"x", &[b"", b"token"], 64);
            assert!(data.len() <= 64);
        }
    }
}
