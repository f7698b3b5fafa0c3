//! Reward plugin: the DeepRacer "follow the center line" sample reward function.

use weir_plugin::{Params, Reward, Settings};

/// Rewards the agent for staying close to the center line.
struct CenterLine;

impl Reward for CenterLine {
    fn init(_settings: &Settings) -> Result<Self, String> {
        Ok(CenterLine)
    }

    fn reward(&mut self, params: &Params<'_>) -> Result<f64, String> {
        let track_width = params.track_width;
        let distance_from_center = params.distance_from_center;

        // Three markers at increasing distances from the center line.
        let marker_1 = 0.1 * track_width;
        let marker_2 = 0.25 * track_width;
        let marker_3 = 0.5 * track_width;

        // Give a higher reward the closer the car is to the center line.
        let reward = if distance_from_center <= marker_1 {
            1.0
        } else if distance_from_center <= marker_2 {
            0.5
        } else if distance_from_center <= marker_3 {
            0.1
        } else {
            1e-3 // likely crashed or close to off track
        };
        Ok(reward)
    }
}

weir_plugin::export_reward!(CenterLine);
