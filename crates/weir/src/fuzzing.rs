//! Entry points for the fuzz targets (`fuzz/` in the repository) into code
//! that is not public. Not part of the API: hidden from the docs, and may
//! change at any time.

use crate::pattern::Pattern;
use crate::pipeline::filter::RecordFilter;
use crate::record::Record;

/// Whether a pipeline's `[filter]` of `patterns` keeps each of `records`
/// from `origin`/`partition` (it parses record values only as far as the
/// patterns read); `None` without patterns.
pub fn filter_keeps(
    patterns: &[Pattern],
    records: &[Record],
    origin: &str,
    partition: &str,
) -> Option<Vec<bool>> {
    let filter = RecordFilter::new(patterns.to_vec())?;
    Some(
        records
            .iter()
            .map(|r| filter.keeps(r, origin, partition))
            .collect(),
    )
}
