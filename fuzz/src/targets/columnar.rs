//! Target `columnar`: a plugin's answer to a call, read back by the host.
//!
//! The input describes an answer — columnar output records (consistent, or
//! each list on its own), input, window and error indices, scores, labels,
//! accumulators — for one of five calls: `process` of a filter, an
//! enricher or a scorer, and an aggregator's `accumulate` or `emit`. The
//! answer is written as a canonical-ABI image, handed to a replay
//! component (see [`guest`]) inside the first record's value (or the first
//! closed window's accumulator), and the component returns it as its
//! answer. So the host reads it exactly as it reads a real plugin's:
//! lifted by wasmtime, validated by the world's decoder, applied to the
//! batch. Some inputs also patch raw words of the image (lengths,
//! pointers) to reach the lifting checks.
//!
//! Beyond "never panics", every outcome is checked against what must hold
//! for any answer: each input record is passed on, failed or dropped at
//! most once, an enricher's outputs come from inputs that did not fail,
//! scores passed on are finite, messages are cut to the default
//! `limits.message_bytes`, and a failed call hands its whole batch back.

pub mod guest;

use std::cell::RefCell;
use std::collections::HashMap;

use weir::plugin::{
    ClosedWindow, Engine, EngineConfig, Grants, InstanceOptions, Plugin, PluginInstance,
    PluginKind, WindowGroup,
};
use weir::{Batch, Position, Record};

use crate::input::Input;
use crate::mutate::Rng;
use crate::{error_signature, mix};

/// Words worth writing into inputs: offsets and lengths at their limits.
pub const DICTIONARY: &[&[u8]] = &[
    &[0xff, 0xff, 0xff, 0xff],
    &[0x00, 0x00, 0x00, 0x80],
    &[0xff, 0xff, 0xff, 0x7f],
    &[0x00, 0x00, 0xf0, 0x7f, 0x00, 0x00, 0x00, 0x00],
    &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x7f],
    &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x7f],
    &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0xff],
    &[0xf0, 0x01, 0x00, 0x00, 0x00],
    &[0xe0],
    &[0xff],
];

/// The call an input answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Filter,
    Enricher,
    Scorer,
    Accumulate,
    Emit,
}

const CALLS: [Call; 5] = [
    Call::Filter,
    Call::Enricher,
    Call::Scorer,
    Call::Accumulate,
    Call::Emit,
];

/// A set of output records in columnar form.
#[derive(Debug, Clone, Default)]
struct Columns {
    values: Vec<u8>,
    value_ends: Vec<u32>,
    keys: Vec<u8>,
    key_ends: Vec<u32>,
    has_key: Vec<u8>,
    header_ends: Vec<u32>,
    header_data: Vec<u8>,
    header_data_ends: Vec<u32>,
}

/// One output record, for columns that are consistent.
#[derive(Debug, Clone)]
struct Output {
    key: Option<Vec<u8>>,
    value: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Output records: consistent ones, or columns read list by list.
#[derive(Debug, Clone)]
enum Outputs {
    Records(Vec<Output>),
    Raw(Columns),
}

impl Outputs {
    fn len(&self) -> usize {
        match self {
            Outputs::Records(r) => r.len(),
            Outputs::Raw(c) => c.value_ends.len(),
        }
    }

    fn amplify(&mut self, len: usize) {
        match self {
            Outputs::Records(r) => amplify(r, len, |o| {
                o.key.as_ref().map_or(0, Vec::len)
                    + o.value.len()
                    + o.headers
                        .iter()
                        .map(|(n, v)| 8 + n.len() + v.len())
                        .sum::<usize>()
            }),
            Outputs::Raw(c) => {
                amplify(&mut c.value_ends, len, word);
                amplify(&mut c.key_ends, len, word);
                amplify(&mut c.has_key, len, word);
                amplify(&mut c.header_ends, len, word);
            }
        }
    }

    fn columns(&self) -> Columns {
        match self {
            Outputs::Raw(c) => c.clone(),
            Outputs::Records(records) => {
                let mut c = Columns::default();
                for r in records {
                    c.values.extend_from_slice(&r.value);
                    c.value_ends.push(c.values.len() as u32);
                    if let Some(k) = &r.key {
                        c.keys.extend_from_slice(k);
                    }
                    c.key_ends.push(c.keys.len() as u32);
                    c.has_key.push(u8::from(r.key.is_some()));
                    for (name, value) in &r.headers {
                        c.header_data.extend_from_slice(name);
                        c.header_data_ends.push(c.header_data.len() as u32);
                        c.header_data.extend_from_slice(value);
                        c.header_data_ends.push(c.header_data.len() as u32);
                    }
                    c.header_ends.push((c.header_data_ends.len() / 2) as u32);
                }
                c
            }
        }
    }
}

/// Most bytes (roughly, as written into the image) an amplified list may
/// reach: enough for quadratic host work to show, bounded so that the
/// harness itself stays quick.
const AMPLIFIED_BYTES: usize = 4 << 20;

/// Repeats `v`'s items cyclically until it holds `len` of them, or as many
/// as keep their bytes (by `weight`, 16 more per item) within
/// [`AMPLIFIED_BYTES`].
fn amplify<T: Clone>(v: &mut Vec<T>, len: usize, weight: impl Fn(&T) -> usize) {
    let n = v.len();
    if n == 0 || n >= len {
        return;
    }
    let cycle: usize = v.iter().map(|item| weight(item) + 16).sum();
    let len = len.min(AMPLIFIED_BYTES.saturating_mul(n) / cycle.max(1));
    if n >= len {
        return;
    }
    v.reserve(len - n);
    for i in n..len {
        let item = v[i % n].clone();
        v.push(item);
    }
}

/// The weight of a small fixed-size item.
fn word<T>(_: &T) -> usize {
    4
}

/// The weight of an `(index, text)` item.
fn indexed(item: &(u32, Vec<u8>)) -> usize {
    8 + item.1.len()
}

/// Reads structured answers from fuzz bytes.
struct Reader<'a> {
    input: Input<'a>,
    /// Strings may be invalid UTF-8 (which lifting refuses).
    raw_strings: bool,
}

impl Reader<'_> {
    fn text(&mut self, max: usize) -> Vec<u8> {
        let bytes = self.input.short_bytes(max);
        if self.raw_strings {
            bytes.to_vec()
        } else {
            String::from_utf8_lossy(bytes).into_owned().into_bytes()
        }
    }

    /// An error or label message: short, or (length byte 0xff) long.
    fn message(&mut self, max: usize) -> Vec<u8> {
        let len = self.input.byte();
        if len == 0xff {
            // A long message of multi-byte characters, which the host cuts
            // (`limits.message_bytes`) on a character boundary.
            let times = (usize::from(self.input.byte()) << 8) / 6;
            return "é€x".repeat(times).into_bytes();
        }
        let bytes = self.input.bytes(usize::from(len) % (max + 1));
        if self.raw_strings {
            bytes.to_vec()
        } else {
            String::from_utf8_lossy(bytes).into_owned().into_bytes()
        }
    }

    fn indices(&mut self, n: usize, max: usize) -> Vec<u32> {
        let count = self.input.count(max);
        (0..count).map(|_| self.input.index(n)).collect()
    }

    fn errors(&mut self, n: usize) -> Vec<(u32, Vec<u8>)> {
        let count = self.input.count(8);
        (0..count)
            .map(|_| (self.input.index(n), self.message(24)))
            .collect()
    }

    /// An offset into a buffer of `len` bytes: mostly inside it.
    fn offset(&mut self, len: usize) -> u32 {
        let b = self.input.byte();
        if b < 0xe0 {
            (usize::from(b) % (len + 1)) as u32
        } else {
            self.input.index(len)
        }
    }

    fn offsets(&mut self, len: usize) -> Vec<u32> {
        let count = self.input.count(12);
        (0..count).map(|_| self.offset(len)).collect()
    }

    fn outputs(&mut self) -> Outputs {
        if self.input.byte() & 3 != 3 {
            let count = self.input.count(12);
            let records = (0..count)
                .map(|_| {
                    let shape = self.input.byte();
                    let key = (shape & 1 != 0).then(|| self.input.short_bytes(8).to_vec());
                    let value = self.input.short_bytes(32).to_vec();
                    let headers = (0..(shape >> 1) % 4)
                        .map(|_| (self.text(8), self.input.short_bytes(8).to_vec()))
                        .collect();
                    Output {
                        key,
                        value,
                        headers,
                    }
                })
                .collect();
            Outputs::Records(records)
        } else {
            let values = self.input.short_bytes(48).to_vec();
            let value_ends = self.offsets(values.len());
            let keys = self.input.short_bytes(16).to_vec();
            let key_ends = self.offsets(keys.len());
            let has_key = self.input.short_bytes(12).to_vec();
            let header_data = self.text(48);
            let header_data_ends = self.offsets(header_data.len());
            let header_ends = self.offsets(header_data_ends.len() / 2);
            Outputs::Raw(Columns {
                values,
                value_ends,
                keys,
                key_ends,
                has_key,
                header_ends,
                header_data,
                header_data_ends,
            })
        }
    }

    /// A length that usually is `expected`, and sometimes is not.
    fn length_near(&mut self, expected: usize) -> usize {
        match self.input.byte() {
            0..=0xdf => expected,
            0xe0..=0xef => expected + 1,
            0xf0..=0xf7 => expected.saturating_sub(1),
            _ => self.input.count(16),
        }
    }

    fn score(&mut self) -> f64 {
        const SCORES: [f64; 12] = [
            0.0,
            1.0,
            0.5,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            0.9,
        ];
        let b = self.input.byte();
        match SCORES.get(usize::from(b)) {
            Some(s) => *s,
            None if b < 0x80 => f64::from(b) / 100.0,
            None => f64::from_bits(self.input.u64()),
        }
    }
}

/// A canonical-ABI image of an answer, as it will sit at
/// [`guest::SCRATCH`] in the component's memory.
struct Image {
    buf: Vec<u8>,
    strings: HashMap<Vec<u8>, u32>,
}

impl Image {
    /// An image whose root record (at the start) is `size` bytes.
    fn new(size: usize) -> Image {
        Image {
            buf: vec![0; size],
            strings: HashMap::new(),
        }
    }

    /// Appends `bytes` at `align` and returns their address.
    fn data(&mut self, bytes: &[u8], align: usize) -> u32 {
        while !self.buf.len().is_multiple_of(align) {
            self.buf.push(0);
        }
        let at = self.buf.len();
        self.buf.extend_from_slice(bytes);
        guest::SCRATCH + at as u32
    }

    fn set(&mut self, at: usize, v: u32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// A list of `count` items whose bytes are `bytes`, pointed to from `at`.
    fn list(&mut self, at: usize, bytes: &[u8], align: usize, count: usize) {
        let ptr = self.data(bytes, align);
        self.set(at, ptr);
        self.set(at + 4, count as u32);
    }

    fn bytes(&mut self, at: usize, v: &[u8]) {
        self.list(at, v, 1, v.len());
    }

    fn u32s(&mut self, at: usize, v: &[u32]) {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.list(at, &bytes, 4, v.len());
    }

    fn f64s(&mut self, at: usize, v: &[f64]) {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.list(at, &bytes, 8, v.len());
    }

    /// A string (stored once however often it is used): its address.
    fn string(&mut self, s: &[u8]) -> u32 {
        if let Some(&ptr) = self.strings.get(s) {
            return ptr;
        }
        let ptr = self.data(s, 1);
        self.strings.insert(s.to_vec(), ptr);
        ptr
    }

    /// A list of `(u32, string)` records (record-error, label) at `at`.
    fn indexed_strings(&mut self, at: usize, items: &[(u32, Vec<u8>)]) {
        let mut bytes = Vec::with_capacity(items.len() * 12);
        for (index, text) in items {
            let ptr = self.string(text);
            bytes.extend_from_slice(&index.to_le_bytes());
            bytes.extend_from_slice(&ptr.to_le_bytes());
            bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
        }
        self.list(at, &bytes, 4, items.len());
    }

    /// A list of byte lists at `at`.
    fn byte_lists(&mut self, at: usize, items: &[Vec<u8>]) {
        let mut bytes = Vec::with_capacity(items.len() * 8);
        for item in items {
            let ptr = self.string(item);
            bytes.extend_from_slice(&ptr.to_le_bytes());
            bytes.extend_from_slice(&(item.len() as u32).to_le_bytes());
        }
        self.list(at, &bytes, 4, items.len());
    }

    /// A `columns` record at `at` (64 bytes).
    fn columns(&mut self, at: usize, c: &Columns) {
        self.bytes(at, &c.values);
        self.u32s(at + 8, &c.value_ends);
        self.bytes(at + 16, &c.keys);
        self.u32s(at + 24, &c.key_ends);
        self.bytes(at + 32, &c.has_key);
        self.u32s(at + 40, &c.header_ends);
        self.bytes(at + 48, &c.header_data);
        self.u32s(at + 56, &c.header_data_ends);
    }
}

/// What the host is asked, and the image of the answer.
struct Case {
    call: Call,
    /// Records in the batch (or closed windows for `emit`).
    n: usize,
    groups: Vec<WindowGroup>,
    image: Vec<u8>,
}

/// Reads a case from fuzz bytes.
fn case(data: &[u8]) -> Case {
    let mut r = Reader {
        input: Input::new(data),
        raw_strings: false,
    };
    let call = CALLS[usize::from(r.input.byte()) % CALLS.len()];
    let flags = r.input.byte();
    r.raw_strings = flags & 4 != 0;
    let mut n = 1 + usize::from(r.input.byte()) % 8;
    if flags & 0x38 == 0x38 {
        n = 1 + (usize::from(r.input.byte()) << 8 | usize::from(r.input.byte())) % (MAX_BATCH - 1);
    }
    // Amplification (flag bits 0, 6 and 7): which lists to repeat, and to how
    // many items.
    let amplify_to = |r: &mut Reader<'_>| 1usize << (r.input.byte() % 17);
    let (amp_which, amp_len) = if flags & 0xc1 == 0xc1 {
        (r.input.byte() % 3, amplify_to(&mut r))
    } else {
        (0, 0)
    };
    let amp_errors = |e: &mut Vec<(u32, Vec<u8>)>| {
        if amp_which != 1 {
            amplify(e, amp_len, indexed);
        }
    };
    let amp_main = amp_which != 0;
    let mut groups = Vec::new();
    let image = match call {
        Call::Filter => {
            let mut keep = r.indices(n, 16);
            let mut errors = r.errors(n);
            if amp_main {
                amplify(&mut keep, amp_len, word);
            }
            amp_errors(&mut errors);
            let mut image = Image::new(16);
            image.u32s(0, &keep);
            image.indexed_strings(8, &errors);
            image
        }
        Call::Enricher => {
            let mut outputs = r.outputs();
            let inputs_len = r.length_near(outputs.len());
            let mut inputs: Vec<u32> = (0..inputs_len).map(|_| r.input.index(n)).collect();
            let mut errors = r.errors(n);
            if amp_main {
                outputs.amplify(amp_len);
                amplify(&mut inputs, outputs.len(), word);
            }
            amp_errors(&mut errors);
            let mut image = Image::new(80);
            image.columns(0, &outputs.columns());
            image.u32s(64, &inputs);
            image.indexed_strings(72, &errors);
            image
        }
        Call::Scorer => {
            let count = r.length_near(n);
            let mut scores: Vec<f64> = (0..count).map(|_| r.score()).collect();
            let labels_len = r.input.count(8);
            let mut labels: Vec<(u32, Vec<u8>)> = (0..labels_len)
                .map(|_| (r.input.index(n), r.message(16)))
                .collect();
            let mut errors = r.errors(n);
            if amp_main {
                amplify(&mut labels, amp_len, indexed);
                // More scores than records: a length error, cheaply.
                amplify(&mut scores, amp_len.min(n + 1), word);
            }
            amp_errors(&mut errors);
            let mut image = Image::new(24);
            image.f64s(0, &scores);
            image.indexed_strings(8, &labels);
            image.indexed_strings(16, &errors);
            image
        }
        Call::Accumulate => {
            let count = 1 + usize::from(r.input.byte()) % 4;
            for g in 0..count {
                let shape = r.input.byte();
                groups.push(WindowGroup {
                    key: r.input.short_bytes(4).to_vec(),
                    start: g as i64 * 1000,
                    end: g as i64 * 1000 + 1000,
                    accumulator: (shape & 1 != 0).then(|| r.input.short_bytes(8).to_vec()),
                    records: r.indices(n, 8),
                });
            }
            let accumulators_len = r.length_near(count);
            let mut accumulators: Vec<Vec<u8>> = (0..accumulators_len)
                .map(|_| r.input.short_bytes(16).to_vec())
                .collect();
            let mut errors = r.errors(n);
            if amp_main {
                amplify(&mut accumulators, amp_len, Vec::len);
            }
            amp_errors(&mut errors);
            let mut image = Image::new(16);
            image.byte_lists(0, &accumulators);
            image.indexed_strings(8, &errors);
            image
        }
        Call::Emit => {
            let mut outputs = r.outputs();
            let windows_len = r.length_near(outputs.len());
            let mut windows: Vec<u32> = (0..windows_len).map(|_| r.input.index(n)).collect();
            if amp_main {
                outputs.amplify(amp_len);
                amplify(&mut windows, outputs.len(), word);
            }
            let mut image = Image::new(72);
            image.columns(0, &outputs.columns());
            image.u32s(64, &windows);
            image
        }
    };
    let mut image = image.buf;
    // Patches: raw words written over the image (lengths, pointers).
    if flags & 2 != 0 {
        for _ in 0..r.input.count(4) {
            let at = r.input.u32() as usize % image.len().max(1);
            let v = r.input.u32();
            for (i, b) in v.to_le_bytes().iter().enumerate() {
                if let Some(slot) = image.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
    }
    Case {
        call,
        n,
        groups,
        image,
    }
}

/// The replay plugins and one live instance of each.
struct Replay {
    instances: Vec<(PluginKind, PluginInstance)>,
}

impl Replay {
    fn new() -> Result<Replay, String> {
        let engine = Engine::with_config(&EngineConfig::default().with_pooling(false))
            .map_err(|e| e.to_string())?;
        let mut instances = Vec::new();
        for kind in [
            PluginKind::Filter,
            PluginKind::Enricher,
            PluginKind::Scorer,
            PluginKind::Aggregator,
        ] {
            let bytes = guest::component(kind)?;
            let plugin: Plugin = engine
                .load(&format!("replay-{kind}"), &bytes, Grants::default())
                .map_err(|e| e.to_string())?;
            let instance = plugin
                .instantiate(InstanceOptions::default())
                .map_err(|e| e.to_string())?;
            instances.push((kind, instance));
        }
        Ok(Replay { instances })
    }

    fn instance(&mut self, kind: PluginKind) -> &mut PluginInstance {
        match self.instances.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, instance)) => instance,
            None => panic!("no replay instance of {kind}"),
        }
    }
}

thread_local! {
    /// Taken out for each input and put back after it, so that a panic
    /// leaves no half-used instance behind (the next input makes new ones).
    static REPLAY: RefCell<Option<Replay>> = const { RefCell::new(None) };
}

/// Compiles the replay components once; the first input pays otherwise.
pub fn warm_up() {
    exec(&[]);
}

/// Runs one input; see the module docs.
pub fn run(data: &[u8]) {
    exec(data);
}

/// Most records in a batch (inputs with flag bits 3 to 5 all set).
const MAX_BATCH: usize = 1 << 12;

thread_local! {
    /// Records 1.. of every batch, made once.
    static RECORDS: Vec<Record> = (1..MAX_BATCH)
        .map(|i| {
            let r = Record::new(
                format!("{{\"i\":{i}}}").into_bytes(),
                Position::Offset(i as u64),
                i as i64,
            );
            if i % 2 == 0 {
                r.with_key(format!("k{i}").into_bytes())
            } else {
                r
            }
        })
        .collect();
}

/// A batch of `n` records, the first one's value being `first`.
fn batch(n: usize, first: Vec<u8>) -> Batch {
    let mut records = Vec::with_capacity(n);
    records.push(Record::new(first, Position::Offset(0), 0));
    RECORDS.with(|rest| records.extend_from_slice(&rest[..n.min(MAX_BATCH) - 1]));
    Batch::new("fuzz", "0", records)
}

fn offset_of(r: &Record) -> u64 {
    match &r.position {
        Position::Offset(o) => *o,
        Position::Sequence(s) => panic!("a sequence position {s} appeared in an offset batch"),
    }
}

/// A signature of a count: its order of magnitude.
fn magnitude(n: usize) -> u64 {
    u64::from(usize::BITS - n.leading_zeros())
}

/// Runs one input and returns its signature.
pub fn exec(data: &[u8]) -> u64 {
    let case = case(data);
    if case.image.len() > guest::MAX_IMAGE {
        return 1;
    }
    let mut replay = match REPLAY.with(|r| r.borrow_mut().take()) {
        Some(replay) => replay,
        None => match Replay::new() {
            Ok(replay) => replay,
            Err(e) => panic!("cannot set up the replay components: {e}"),
        },
    };
    let sig = call(&mut replay, case);
    REPLAY.with(|r| *r.borrow_mut() = Some(replay));
    sig
}

fn call(replay: &mut Replay, case: Case) -> u64 {
    let n = case.n;
    let sig = mix(0, case.call as u64);
    match case.call {
        Call::Filter | Call::Enricher | Call::Scorer => {
            let kind = match case.call {
                Call::Filter => PluginKind::Filter,
                Call::Enricher => PluginKind::Enricher,
                _ => PluginKind::Scorer,
            };
            match replay.instance(kind).process(batch(n, case.image)) {
                Ok(outcome) => {
                    check_outcome(case.call, n, &outcome);
                    let sig = mix(sig, magnitude(outcome.records.len()));
                    let sig = mix(sig, magnitude(outcome.failed.len()));
                    mix(sig, magnitude(outcome.dropped))
                }
                Err(failure) => {
                    assert_eq!(
                        failure.batch.records.len(),
                        n,
                        "a failed call must hand its whole batch back"
                    );
                    mix(sig, error_signature(&failure.error.to_string()))
                }
            }
        }
        Call::Accumulate => {
            let batch = batch(n, case.image);
            match replay
                .instance(PluginKind::Aggregator)
                .accumulate(&batch, &case.groups)
            {
                Ok(acc) => {
                    assert_eq!(
                        acc.accumulators.len(),
                        case.groups.len(),
                        "one accumulator per group"
                    );
                    for (i, _) in &acc.errors {
                        assert!(*i < n, "error for record {i} of {n}");
                    }
                    mix(sig, magnitude(acc.errors.len()))
                }
                Err(e) => mix(sig, error_signature(&e.to_string())),
            }
        }
        Call::Emit => {
            let mut windows: Vec<ClosedWindow> = (0..n)
                .map(|i| ClosedWindow {
                    key: format!("w{i}").into_bytes(),
                    start: i as i64 * 1000,
                    end: i as i64 * 1000 + 1000,
                    accumulator: vec![i as u8],
                })
                .collect();
            windows[0].accumulator = case.image;
            match replay.instance(PluginKind::Aggregator).emit(&windows) {
                Ok(outputs) => {
                    for o in &outputs {
                        assert!(o.window < n, "output of window {} of {n}", o.window);
                    }
                    mix(sig, magnitude(outputs.len()))
                }
                Err(e) => mix(sig, error_signature(&e.to_string())),
            }
        }
    }
}

/// The longest message a plugin's text may become in the host: the default
/// `limits.message_bytes` and the marker that says how much was cut.
const MAX_MESSAGE: usize = 4096 + 64;

/// What must hold for the outcome of any answer to a batch of `n` records.
fn check_outcome(call: Call, n: usize, outcome: &weir::plugin::Outcome) {
    let mut failed = vec![false; n];
    for f in &outcome.failed {
        assert!(
            f.error.len() <= MAX_MESSAGE,
            "a {}-byte record error",
            f.error.len()
        );
        let i = offset_of(&f.record) as usize;
        assert!(i < n, "failed record {i} of {n}");
        assert!(!failed[i], "record {i} failed twice");
        failed[i] = true;
    }
    match call {
        Call::Enricher => {
            assert_eq!(outcome.dropped, 0, "an enricher drops nothing");
            for r in &outcome.records {
                let i = offset_of(r) as usize;
                assert!(i < n, "output for input {i} of {n}");
                assert!(!failed[i], "output for input {i}, which failed");
            }
        }
        _ => {
            let mut last = None;
            for r in &outcome.records {
                let i = offset_of(r);
                assert!(
                    last.is_none_or(|l| l < i),
                    "records passed on out of order or twice: {i} after {last:?}"
                );
                last = Some(i);
                assert!(!failed[i as usize], "record {i} both failed and passed on");
                if call == Call::Scorer {
                    assert!(
                        r.score.is_some_and(f64::is_finite),
                        "scored record {i} passed on with the score {:?}",
                        r.score
                    );
                }
                for label in &r.labels {
                    assert!(label.len() <= MAX_MESSAGE, "a {}-byte label", label.len());
                }
            }
            assert_eq!(
                outcome.records.len() + outcome.failed.len() + outcome.dropped,
                n,
                "every record is passed on, failed or dropped"
            );
            if call == Call::Scorer {
                assert_eq!(outcome.dropped, 0, "a scorer drops nothing");
            }
        }
    }
}

/// A well-formed input from scratch: a random case description.
pub fn generate(rng: &mut Rng) -> Vec<u8> {
    let len = 8 + rng.small(120);
    let mut data: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
    // Mostly small, valid-looking indices and no amplification.
    data[1] &= if rng.one_in(8) { 0xff } else { 0x04 };
    for b in data.iter_mut().skip(3) {
        if rng.one_in(2) {
            *b %= 8;
        }
    }
    data
}
