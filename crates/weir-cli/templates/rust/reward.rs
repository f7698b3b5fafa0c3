//! {{name}}: a DeepRacer reward function that rewards staying near the
//! center line.

use weir_plugin::{Params, Reward, Settings};

struct Plugin;

impl Reward for Plugin {
    fn init(_settings: &Settings) -> Result<Self, String> {
        Ok(Plugin)
    }

    fn reward(&mut self, params: &Params<'_>) -> Result<f64, String> {
        let (width, distance) = (params.track_width, params.distance_from_center);
        Ok(if distance <= 0.1 * width {
            1.0
        } else if distance <= 0.25 * width {
            0.5
        } else if distance <= 0.5 * width {
            0.1
        } else {
            1e-3
        })
    }
}

weir_plugin::export_reward!(Plugin);
