//! The `reward` world: DeepRacer `params` JSON → typed steps → rewards.
//!
//! Each record's value is one step's `params` dict. Consecutive steps on the
//! same track share one call, so the waypoints cross the boundary once.

use serde::Deserialize;

use wasmtime::Store;

use super::{CallResult, Guest, init_call, world_exports};
use crate::plugin::bindings::reward_plugin::{self, Step, Track};
use crate::plugin::host::HostState;
use crate::plugin::marshal::{BatchBuffers, record_errors_within};
use crate::plugin::outcome::Decision;
use crate::record::Batch;

#[derive(Deserialize)]
struct Params {
    all_wheels_on_track: bool,
    x: f64,
    y: f64,
    #[serde(default)]
    closest_objects: [u32; 2],
    closest_waypoints: [u32; 2],
    distance_from_center: f64,
    #[serde(default)]
    is_crashed: bool,
    is_left_of_center: bool,
    #[serde(default)]
    is_offtrack: bool,
    #[serde(default)]
    is_reversed: bool,
    heading: f64,
    #[serde(default)]
    objects_distance: Vec<f64>,
    #[serde(default)]
    objects_heading: Vec<f64>,
    #[serde(default)]
    objects_left_of_center: Vec<bool>,
    #[serde(default)]
    objects_location: Vec<(f64, f64)>,
    #[serde(default)]
    objects_speed: Vec<f64>,
    progress: f64,
    speed: f64,
    steering_angle: f64,
    steps: f64,
    track_length: f64,
    track_width: f64,
    waypoints: Vec<(f64, f64)>,
}

/// Parses a record value as DeepRacer step params.
fn parse(value: &[u8]) -> Result<(Track, Step), String> {
    let p: Params =
        serde_json::from_slice(value).map_err(|e| format!("not a DeepRacer params object: {e}"))?;
    let track = Track {
        waypoints: p.waypoints,
        track_width: p.track_width,
        track_length: p.track_length,
    };
    let step = Step {
        all_wheels_on_track: p.all_wheels_on_track,
        x: p.x,
        y: p.y,
        closest_objects: (p.closest_objects[0], p.closest_objects[1]),
        closest_waypoints: (p.closest_waypoints[0], p.closest_waypoints[1]),
        distance_from_center: p.distance_from_center,
        is_crashed: p.is_crashed,
        is_left_of_center: p.is_left_of_center,
        is_offtrack: p.is_offtrack,
        is_reversed: p.is_reversed,
        heading: p.heading,
        objects_distance: p.objects_distance,
        objects_heading: p.objects_heading,
        objects_left_of_center: p.objects_left_of_center,
        objects_location: p.objects_location,
        objects_speed: p.objects_speed,
        progress: p.progress,
        speed: p.speed,
        steering_angle: p.steering_angle,
        steps: p.steps.max(0.0) as u32,
    };
    Ok((track, step))
}

fn same_track(a: &Track, b: &Track) -> bool {
    a.track_width == b.track_width && a.track_length == b.track_length && a.waypoints == b.waypoints
}

world_exports!(RewardExports, RewardGuest, reward_plugin);

impl Guest for RewardGuest {
    init_call!();

    /// Runs of consecutive parsable steps on the same track share one call.
    fn process(
        &self,
        store: &mut Store<HostState>,
        _buffers: &mut BatchBuffers,
        batch: &Batch,
    ) -> Option<CallResult<Decision>> {
        Some(self.rewards(store, batch))
    }
}

impl RewardGuest {
    fn rewards(&self, store: &mut Store<HostState>, batch: &Batch) -> CallResult<Decision> {
        let limits = store.data().quotas;
        let n = batch.records.len();
        let mut scores = vec![0.0f64; n];
        let mut errors: Vec<(usize, String)> = Vec::new();
        let mut runs: Vec<(Track, Vec<(usize, Step)>)> = Vec::new();
        for (i, record) in batch.records.iter().enumerate() {
            match parse(&record.value) {
                Ok((track, step)) => match runs.last_mut() {
                    Some((t, steps)) if same_track(t, &track) => steps.push((i, step)),
                    _ => runs.push((track, vec![(i, step)])),
                },
                Err(e) => errors.push((i, e)),
            }
        }
        for (track, steps) in runs {
            let (indices, steps): (Vec<usize>, Vec<Step>) = steps.into_iter().unzip();
            let rewards = self.0.call_process(&mut *store, &track, &steps)?;
            if rewards.rewards.len() != steps.len() {
                return Ok(Err(format!(
                    "returned {} rewards for {} steps",
                    rewards.rewards.len(),
                    steps.len()
                )
                .into()));
            }
            for (j, r) in rewards.rewards.into_iter().enumerate() {
                scores[indices[j]] = r;
            }
            let errs = match record_errors_within(rewards.errors, steps.len(), &limits) {
                Ok(e) => e,
                Err(contract) => return Ok(Err(contract.into())),
            };
            errors.extend(errs.into_iter().map(|(j, m)| (indices[j], m)));
        }
        Ok(Ok(Decision::scored(scores, Vec::new(), errors)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_deepracer_params() -> Result<(), String> {
        let v = br#"{"all_wheels_on_track":true,"x":1.5,"y":2.0,"closest_objects":[0,0],
            "closest_waypoints":[3,4],"distance_from_center":0.1,"is_crashed":false,
            "is_left_of_center":true,"is_offtrack":false,"is_reversed":false,"heading":90.0,
            "objects_distance":[],"objects_heading":[],"objects_left_of_center":[],
            "objects_location":[],"objects_speed":[],"progress":12.5,"speed":2.0,
            "steering_angle":-10.0,"steps":42,"track_length":17.7,"track_width":0.76,
            "waypoints":[[0,0],[1,0],[1,1]]}"#;
        let (track, step) = parse(v)?;
        assert_eq!(track.waypoints.len(), 3);
        assert_eq!(step.steps, 42);
        assert_eq!(step.closest_waypoints, (3, 4));
        Ok(())
    }

    #[test]
    fn rejects_non_params() {
        let err = parse(b"not json").err().unwrap_or_default();
        assert!(err.contains("not a DeepRacer params object"), "{err}");
    }
}
