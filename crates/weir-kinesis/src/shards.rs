//! The shards of a stream and their lineage.

use aws_sdk_kinesis::Client;

use crate::aws::{Failure, failure};

/// One shard as ListShards describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) id: String,
    /// The shard it was split from, or the two it was merged from.
    pub(crate) parents: Vec<String>,
    /// Whether the shard is closed (has an ending sequence number): it
    /// takes no more records and ends once read.
    pub(crate) closed: bool,
}

/// Which stream a call is about: by name or by ARN.
#[derive(Debug, Clone)]
pub(crate) struct StreamRef {
    pub(crate) name: String,
    pub(crate) arn: Option<String>,
}

impl StreamRef {
    pub(crate) fn arn(&self) -> Option<String> {
        self.arn.clone()
    }

    pub(crate) fn name(&self) -> Option<String> {
        self.arn.is_none().then(|| self.name.clone())
    }
}

/// Every shard of the stream still within its retention, parents first
/// where Kinesis lists them so.
pub(crate) async fn list_shards(
    client: &Client,
    stream: &StreamRef,
) -> Result<Vec<Shard>, Failure> {
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    loop {
        // A continuation token replaces the stream name in the request.
        let req = match &token {
            Some(t) => client.list_shards().next_token(t),
            None => client
                .list_shards()
                .set_stream_name(stream.name())
                .set_stream_arn(stream.arn()),
        };
        let out = req.send().await.map_err(|e| failure(&e))?;
        for s in out.shards() {
            let mut parents = Vec::new();
            parents.extend(s.parent_shard_id().map(str::to_string));
            parents.extend(s.adjacent_parent_shard_id().map(str::to_string));
            let closed = s
                .sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_some();
            shards.push(Shard {
                id: s.shard_id().to_string(),
                parents,
                closed,
            });
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(shards),
        }
    }
}
