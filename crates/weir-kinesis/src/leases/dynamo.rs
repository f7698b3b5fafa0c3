//! Leases in a DynamoDB table, one item per shard, with the KCL's
//! attribute names (`leaseKey`, `leaseOwner`, `leaseCounter`, `checkpoint`,
//! `checkpointSubSequenceNumber`, `ownerSwitchesSinceCheckpoint`,
//! `parentShardId`).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableStatus,
};

use super::{Checkpoint, Lease, LeaseError, LeaseStore};
use crate::aws::{Failure, Kind, failure};

const KEY: &str = "leaseKey";
const OWNER: &str = "leaseOwner";
const COUNTER: &str = "leaseCounter";
const CHECKPOINT: &str = "checkpoint";
const SUB: &str = "checkpointSubSequenceNumber";
const SWITCHES: &str = "ownerSwitchesSinceCheckpoint";
const PARENTS: &str = "parentShardId";

/// A lease table in DynamoDB.
pub(crate) struct DynamoLeases {
    client: Client,
    table: String,
    endpoint: String,
}

type Item = HashMap<String, AttributeValue>;

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

impl DynamoLeases {
    /// The table `table` reached through `client` (at `endpoint`, for
    /// messages).
    pub(crate) fn new(client: Client, table: &str, endpoint: &str) -> Self {
        DynamoLeases {
            client,
            table: table.to_string(),
            endpoint: endpoint.to_string(),
        }
    }

    fn error(&self, failure: Failure) -> LeaseError {
        LeaseError {
            table: format!("{} at {}", self.table, self.endpoint),
            failure,
        }
    }

    fn other(&self, text: impl ToString) -> LeaseError {
        self.error(Failure {
            kind: Kind::Other,
            text: text.to_string(),
        })
    }

    fn parse(&self, item: &Item) -> Result<Lease, LeaseError> {
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let number = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        let shard = text(KEY).ok_or_else(|| self.other("an item has no leaseKey"))?;
        let bad = |what: &str| self.other(format!("lease {shard}: {what}"));
        let checkpoint = text(CHECKPOINT)
            .and_then(|c| Checkpoint::from_text(&c, number(SUB).unwrap_or(0)))
            .ok_or_else(|| bad("no readable checkpoint"))?;
        let parents = item
            .get(PARENTS)
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default();
        Ok(Lease {
            owner: text(OWNER).filter(|o| !o.is_empty()),
            counter: number(COUNTER).ok_or_else(|| bad("no leaseCounter"))?,
            checkpoint,
            parents,
            shard,
        })
    }

    /// A conditional update; `Ok(false)` when the condition failed.
    async fn update(
        &self,
        shard: &str,
        expression: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, LeaseError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, s(shard))
            .update_expression(expression)
            .condition_expression(condition);
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let f = failure(&e);
                if f.kind == Kind::ConditionFailed {
                    Ok(false)
                } else {
                    Err(self.error(f))
                }
            }
        }
    }

    /// `SET` clauses and values that move the checkpoint.
    fn checkpoint_parts(
        checkpoint: Option<&Checkpoint>,
    ) -> (String, Vec<(&'static str, AttributeValue)>) {
        match checkpoint {
            None => (String::new(), Vec::new()),
            Some(c) => {
                let sub = match c {
                    Checkpoint::At(k) => k.sub_or_zero(),
                    _ => 0,
                };
                (
                    format!(", {CHECKPOINT} = :cp, {SUB} = :sub, {SWITCHES} = :zero"),
                    vec![(":cp", s(&c.text())), (":sub", n(sub)), (":zero", n(0))],
                )
            }
        }
    }

    /// Bumps the counter of a lease we hold (and moves its checkpoint),
    /// then applies `more` (e.g. ` REMOVE leaseOwner`); `Ok(false)` if the
    /// lease is no longer ours as we last saw it.
    async fn update_owned(
        &self,
        lease: &Lease,
        checkpoint: Option<&Checkpoint>,
        more: &str,
    ) -> Result<bool, LeaseError> {
        let owner = lease.owner.clone().unwrap_or_default();
        let (set, mut values) = Self::checkpoint_parts(checkpoint);
        values.extend([
            (":next", n(lease.counter + 1)),
            (":seen", n(lease.counter)),
            (":owner", s(&owner)),
        ]);
        self.update(
            &lease.shard,
            &format!("SET {COUNTER} = :next{set}{more}"),
            &format!("{COUNTER} = :seen AND {OWNER} = :owner"),
            values,
        )
        .await
    }

    async fn table_status(&self) -> Result<Option<TableStatus>, LeaseError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(out) => Ok(out.table().and_then(|t| t.table_status()).cloned()),
            Err(e) => {
                let f = failure(&e);
                if f.kind == Kind::NotFound {
                    Ok(None)
                } else {
                    Err(self.error(f))
                }
            }
        }
    }
}

#[async_trait]
impl LeaseStore for DynamoLeases {
    async fn prepare(&mut self) -> Result<(), LeaseError> {
        if self.table_status().await?.is_none() {
            let key = KeySchemaElement::builder()
                .attribute_name(KEY)
                .key_type(KeyType::Hash)
                .build()
                .map_err(|e| self.other(e))?;
            let attribute = AttributeDefinition::builder()
                .attribute_name(KEY)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| self.other(e))?;
            tracing::info!(table = %self.table, endpoint = %self.endpoint, "creating the lease table");
            let created = self
                .client
                .create_table()
                .table_name(&self.table)
                .key_schema(key)
                .attribute_definitions(attribute)
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await;
            if let Err(e) = created {
                let f = failure(&e);
                // Another process created it first.
                if f.kind != Kind::InUse {
                    return Err(self.error(f));
                }
            }
        }
        for _ in 0..600 {
            if self.table_status().await? == Some(TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(self.other("the table did not become ACTIVE within 60s"))
    }

    async fn list(&mut self) -> Result<Vec<Lease>, LeaseError> {
        let mut leases = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error(failure(&e)))?;
            for item in out.items() {
                leases.push(self.parse(item)?);
            }
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(leases),
            }
        }
    }

    async fn create(&mut self, lease: &Lease) -> Result<(), LeaseError> {
        let mut item: Item = HashMap::new();
        item.insert(KEY.into(), s(&lease.shard));
        item.insert(COUNTER.into(), n(lease.counter));
        item.insert(CHECKPOINT.into(), s(&lease.checkpoint.text()));
        item.insert(SUB.into(), n(0));
        item.insert(SWITCHES.into(), n(0));
        if !lease.parents.is_empty() {
            item.insert(PARENTS.into(), AttributeValue::Ss(lease.parents.clone()));
        }
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(format!("attribute_not_exists({KEY})"))
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e) => {
                let f = failure(&e);
                if f.kind == Kind::ConditionFailed {
                    Ok(())
                } else {
                    Err(self.error(f))
                }
            }
        }
    }

    async fn take(&mut self, lease: &Lease, owner: &str) -> Result<Option<Lease>, LeaseError> {
        let taken = self
            .update(
                &lease.shard,
                &format!("SET {OWNER} = :owner, {COUNTER} = :next, {SWITCHES} = {SWITCHES} + :one"),
                &format!("{COUNTER} = :seen"),
                vec![
                    (":owner", s(owner)),
                    (":next", n(lease.counter + 1)),
                    (":one", n(1)),
                    (":seen", n(lease.counter)),
                ],
            )
            .await?;
        Ok(taken.then(|| Lease {
            owner: Some(owner.to_string()),
            counter: lease.counter + 1,
            ..lease.clone()
        }))
    }

    async fn renew(
        &mut self,
        lease: &Lease,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Option<Lease>, LeaseError> {
        let renewed = self.update_owned(lease, checkpoint, "").await?;
        Ok(renewed.then(|| Lease {
            counter: lease.counter + 1,
            checkpoint: checkpoint
                .cloned()
                .unwrap_or_else(|| lease.checkpoint.clone()),
            ..lease.clone()
        }))
    }

    async fn release(
        &mut self,
        lease: &Lease,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(), LeaseError> {
        let released = self
            .update_owned(lease, checkpoint, &format!(" REMOVE {OWNER}"))
            .await?;
        if !released {
            tracing::info!(table = %self.table, shard = %lease.shard, "lease already taken by another process; nothing to release");
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("DynamoDB table {} at {}", self.table, self.endpoint)
    }
}

/// Against the dynalite the test command starts (`WEIR_DYNAMODB_ENDPOINT`):
/// the conditional writes that keep a lease with one owner.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::SeqKey;

    fn store(client: &Client, table: &str) -> DynamoLeases {
        DynamoLeases::new(client.clone(), table, "dynalite")
    }

    async fn client() -> Client {
        let endpoint = std::env::var("WEIR_DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
            panic!(
                "WEIR_DYNAMODB_ENDPOINT is not set: this test needs dynalite. Run the suite with \
                 `bash scripts/test.sh`, or start it with `bash scripts/kinesis.sh start`"
            )
        });
        let creds =
            aws_sdk_dynamodb::config::Credentials::new("weir-test", "secret", None, None, "test");
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(crate::aws::https_client())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .load()
            .await;
        Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .endpoint_url(endpoint)
                .build(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_owner_per_lease_and_stale_owners_cannot_write() -> Result<(), LeaseError> {
        let client = client().await;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let table = format!("race-{}-{nanos}", std::process::id());
        let mut leases = store(&client, &table);
        leases.prepare().await?;
        let lease = Lease {
            shard: "shardId-000000000000".into(),
            owner: None,
            counter: 0,
            checkpoint: Checkpoint::TrimHorizon,
            parents: vec!["shardId-parent".into()],
        };
        leases.create(&lease).await?;
        leases.create(&lease).await?; // a second create is a no-op
        let seen = leases.list().await?;
        assert_eq!(seen, vec![lease.clone()]);

        // Sixteen processes saw the same free lease; exactly one gets it.
        let mut racers = Vec::new();
        for i in 0..16 {
            let (client, table, seen) = (client.clone(), table.clone(), seen[0].clone());
            racers.push(tokio::spawn(async move {
                store(&client, &table).take(&seen, &format!("w{i}")).await
            }));
        }
        let mut winners = Vec::new();
        for r in racers {
            if let Some(l) = r.await.map_err(|e| leases.other(e))?? {
                winners.push(l);
            }
        }
        assert_eq!(winners.len(), 1, "{winners:?}");
        let winner = winners.remove(0);

        // The owner renews and checkpoints; someone with a stale view cannot.
        let at = Checkpoint::At(SeqKey::sub("4959", 2));
        let renewed = leases
            .renew(&winner, Some(&at))
            .await?
            .ok_or_else(|| leases.other("renew lost"))?;
        assert!(
            leases.renew(&winner, None).await?.is_none(),
            "a stale counter renewed"
        );
        let now = leases.list().await?.remove(0);
        assert_eq!(
            (now.owner.as_deref(), &now.checkpoint),
            (winner.owner.as_deref(), &at)
        );

        // Another process takes it over; the old owner can no longer move
        // the checkpoint or release it.
        let thief = leases
            .take(&now, "thief")
            .await?
            .ok_or_else(|| leases.other("take failed"))?;
        let later = Checkpoint::At(SeqKey::plain("9999"));
        assert!(leases.renew(&renewed, Some(&later)).await?.is_none());
        leases.release(&renewed, Some(&later)).await?;
        let after = leases.list().await?.remove(0);
        assert_eq!(
            (after.owner.as_deref(), &after.checkpoint),
            (Some("thief"), &at)
        );

        // A clean release frees it with its last checkpoint.
        leases.release(&thief, Some(&Checkpoint::ShardEnd)).await?;
        let freed = leases.list().await?.remove(0);
        assert_eq!(
            (freed.owner, freed.checkpoint),
            (None, Checkpoint::ShardEnd)
        );
        assert_eq!(freed.parents, vec!["shardId-parent".to_string()]);
        Ok(())
    }
}
