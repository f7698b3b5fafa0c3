//! Shared buffers for the bytes of consumed records.
//!
//! librdkafka owns a consumed message's bytes only until the next poll, so
//! the source copies them. Copying each key, value and header value into a
//! fresh allocation costs an allocation and a free per part per record;
//! the arena instead appends them to a large chunk and hands out
//! [`Bytes`] views of it, so a record costs no allocation and a chunk is
//! freed when the last record that points into it is dropped. Header names
//! are shared the same way: one allocation per distinct name, not per
//! record.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

/// Bytes of one chunk: room for a couple of hundred typical records, small
/// enough that a few records kept for long (errors shown by the admin API,
/// a window's samples) pin little memory, and below the 64 KiB at which
/// freeing a block makes glibc's allocator consolidate its free lists.
const CHUNK: usize = 32 << 10;

/// How many distinct header names are kept for sharing. Topics carry a
/// handful; records whose names are all different cost one allocation per
/// name, as without sharing, and a look through this many.
const NAMES: usize = 32;

/// Where consumed bytes are copied to.
#[derive(Default)]
pub(crate) struct Arena {
    chunk: BytesMut,
    /// Header names seen, shared by every record that carries them.
    names: Vec<Arc<str>>,
    /// The entry of `names` the next new name replaces once it is full.
    next_name: usize,
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

    /// A shared copy of the header name `name`.
    pub(crate) fn name(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.names.iter().find(|n| ***n == *name) {
            return n.clone();
        }
        let n: Arc<str> = name.into();
        if self.names.len() < NAMES {
            self.names.push(n.clone());
        } else {
            self.names[self.next_name] = n.clone();
            self.next_name = (self.next_name + 1) % NAMES;
        }
        n
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

    #[test]
    fn header_names_are_shared_and_stay_right_past_the_kept_ones() {
        let mut arena = Arena::default();
        let first = arena.name("trace-id");
        let again = arena.name("trace-id");
        assert!(Arc::ptr_eq(&first, &again));
        // More distinct names than are kept: each still reads back.
        for i in 0..3 * NAMES {
            let name = format!("h{i}");
            assert_eq!(&*arena.name(&name), name);
            assert_eq!(&*arena.name("trace-id"), "trace-id");
        }
        assert_eq!(arena.names.len(), NAMES);
    }
}
