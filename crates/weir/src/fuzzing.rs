//! Entry points for the fuzz targets (`fuzz/` in the repository) into code
//! that is not public. Not part of the API: hidden from the docs, and may
//! change at any time.

use crate::pattern::Pattern;
use crate::pipeline::filter::RecordFilter;
use crate::record::Record;

/// Whether a pipeline's `[filter]` of `patterns` keeps `record` from
/// `origin`/`partition` (it parses the record value only as far as the
/// patterns read); `None` without patterns.
pub fn filter_keeps(
    patterns: &[Pattern],
    record: &Record,
    origin: &str,
    partition: &str,
) -> Option<bool> {
    RecordFilter::new(patterns.to_vec()).map(|f| f.keeps(record, origin, partition))
}
