//! Kinesis end to end, against the emulators the test command starts:
//! kinesis-mock (`WEIR_KINESIS_ENDPOINT`) for streams, resharding and
//! lineage, dynalite (`WEIR_DYNAMODB_ENDPOINT`) for the lease table, and a
//! fault-injecting proxy for what neither emulates (throttling, refused
//! credentials).

mod common;
mod proxy;

mod errors;
mod flow;
mod leases;
mod reshard;
mod throttle;
