//! Shared buffers for the bytes of consumed records.
//!
//! librdkafka owns a consumed message's bytes only until the next poll, so
//! the source copies them. Copying each key, value and header value into a
//! fresh allocation costs an allocation and a free per part per record;
//! the arena instead appends them to a large chunk and hands out
//! [`Bytes`] views of it, so a record costs no allocation and a chunk is
//! freed when the last record that points into it is dropped.

use bytes::{Bytes, BytesMut};

/// Bytes of one chunk: room for a couple of hundred typical records, small
/// enough that a few records kept for long (errors shown by the admin API,
/// a window's samples) pin little memory, and below the 64 KiB at which
/// freeing a block makes glibc's allocator consolidate its free lists.
const CHUNK: usize = 32 << 10;

/// Where consumed bytes are copied to.
#[derive(Default)]
pub(crate) struct Arena {
    chunk: BytesMut,
}

impl Arena {
    /// A shared copy of `bytes`.
    pub(crate) fn copy(&mut self, bytes: &[u8]) -> Bytes {
        if bytes.is_empty() {
            return Bytes::new();
        }
        if self.chunk.capacity() - self.chunk.len() < bytes.len() {
            if bytes.len() >= CHUNK / 4 {
                // A large part gets its own buffer rather than ending a
                // chunk early.
                return Bytes::copy_from_slice(bytes);
            }
            self.chunk = BytesMut::with_capacity(CHUNK);
        }
        self.chunk.extend_from_slice(bytes);
        self.chunk.split().freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_read_back_and_share_chunks() {
        let mut arena = Arena::default();
        let parts: Vec<Vec<u8>> = (0..2000u32)
            .map(|i| i.to_string().repeat((i % 7) as usize).into_bytes())
            .collect();
        let copies: Vec<Bytes> = parts.iter().map(|p| arena.copy(p)).collect();
        for (p, c) in parts.iter().zip(&copies) {
            assert_eq!(&p[..], &c[..]);
        }
        // A large part is its own buffer and leaves the chunk as it was.
        let big = vec![7u8; CHUNK];
        assert_eq!(&arena.copy(&big)[..], &big[..]);
        let after = arena.copy(b"after");
        assert_eq!(&after[..], b"after");
        // Dropping the records frees the chunks; the arena's copies stay valid.
        drop(copies);
        assert_eq!(&after[..], b"after");
    }
}
