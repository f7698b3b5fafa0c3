//! Reward functions: DeepRacer-style typed step parameters in, one number
//! per step out.

use crate::__private::{Slot, init_slot, not_initialised};
use crate::Settings;
use crate::bindings::exports::weir::plugin::reward_plugin::{RecordError, Rewards, Step, Track};

/// An `(x, y)` point in meters.
pub type Point = (f64, f64);

/// The DeepRacer `params` of one step, with the DeepRacer key names.
///
/// The track fields (`waypoints`, `track_width`, `track_length`) come from
/// the track shared by every step of the call. Index pairs are `usize`, so
/// `params.waypoints[params.closest_waypoints[1]]` works as in Python.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params<'a> {
    /// Whether all four wheels are on the track.
    pub all_wheels_on_track: bool,
    /// Agent position, meters.
    pub x: f64,
    /// Agent position, meters.
    pub y: f64,
    /// Indices (into the `objects_*` lists) of the two closest objects.
    pub closest_objects: [usize; 2],
    /// Indices (into `waypoints`) of the previous and next waypoint.
    pub closest_waypoints: [usize; 2],
    /// Distance from the center line, meters.
    pub distance_from_center: f64,
    /// Whether the agent crashed into an object.
    pub is_crashed: bool,
    /// Whether the agent is left of the center line.
    pub is_left_of_center: bool,
    /// Whether the agent is off the track.
    pub is_offtrack: bool,
    /// Whether the agent drives the wrong way.
    pub is_reversed: bool,
    /// Agent yaw in degrees, -180..180.
    pub heading: f64,
    /// Distance of each object from the agent, meters.
    pub objects_distance: &'a [f64],
    /// Heading of each object, degrees.
    pub objects_heading: &'a [f64],
    /// Whether each object is left of the center line.
    pub objects_left_of_center: &'a [bool],
    /// Position of each object.
    pub objects_location: &'a [Point],
    /// Speed of each object, m/s.
    pub objects_speed: &'a [f64],
    /// Percentage of the track completed, 0..100.
    pub progress: f64,
    /// Agent speed, m/s.
    pub speed: f64,
    /// Steering angle in degrees, -30..30.
    pub steering_angle: f64,
    /// Number of steps completed.
    pub steps: u32,
    /// Track length in meters.
    pub track_length: f64,
    /// Track width in meters.
    pub track_width: f64,
    /// Center-line waypoints, in driving order.
    pub waypoints: &'a [Point],
}

impl<'a> Params<'a> {
    /// The params of `step` on `track`.
    pub fn new(track: &'a Track, step: &'a Step) -> Self {
        Self {
            all_wheels_on_track: step.all_wheels_on_track,
            x: step.x,
            y: step.y,
            closest_objects: [
                step.closest_objects.0 as usize,
                step.closest_objects.1 as usize,
            ],
            closest_waypoints: [
                step.closest_waypoints.0 as usize,
                step.closest_waypoints.1 as usize,
            ],
            distance_from_center: step.distance_from_center,
            is_crashed: step.is_crashed,
            is_left_of_center: step.is_left_of_center,
            is_offtrack: step.is_offtrack,
            is_reversed: step.is_reversed,
            heading: step.heading,
            objects_distance: &step.objects_distance,
            objects_heading: &step.objects_heading,
            objects_left_of_center: &step.objects_left_of_center,
            objects_location: &step.objects_location,
            objects_speed: &step.objects_speed,
            progress: step.progress,
            speed: step.speed,
            steering_angle: step.steering_angle,
            steps: step.steps,
            track_length: track.track_length,
            track_width: track.track_width,
            waypoints: &track.waypoints,
        }
    }
}

/// A reward-function plugin: one reward per DeepRacer step.
///
/// Export the implementing type with [`export_reward!`](crate::export_reward).
///
/// ```rust,no_run
/// use weir_plugin::{Params, Reward, Settings};
///
/// /// Rewards staying on the track.
/// struct OnTrack;
///
/// impl Reward for OnTrack {
///     fn init(_: &Settings) -> Result<Self, String> {
///         Ok(OnTrack)
///     }
///     fn reward(&mut self, params: &Params<'_>) -> Result<f64, String> {
///         Ok(if params.all_wheels_on_track { 1.0 } else { 1e-3 })
///     }
/// }
///
/// weir_plugin::export_reward!(OnTrack);
/// ```
pub trait Reward: Sized + 'static {
    /// Builds the plugin from its settings; called once per instance before
    /// any step. An error rejects the plugin with the message.
    fn init(settings: &Settings) -> Result<Self, String>;

    /// The reward of one step. An `Err` fails only this step.
    fn reward(&mut self, params: &Params<'_>) -> Result<f64, String>;
}

#[doc(hidden)]
pub fn reward_init<T: Reward>(
    slot: &'static Slot<T>,
    settings: Vec<(String, String)>,
) -> Result<(), String> {
    init_slot(slot, || T::init(&Settings::new(settings)))
}

#[doc(hidden)]
pub fn reward_process<T: Reward>(
    slot: &'static Slot<T>,
    track: Track,
    steps: Vec<Step>,
) -> Rewards {
    slot.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Some(plugin) = guard.as_mut() else {
            return Rewards {
                rewards: vec![0.0; steps.len()],
                errors: not_initialised(steps.len()),
            };
        };
        let mut rewards = Vec::with_capacity(steps.len());
        let mut errors = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            match plugin.reward(&Params::new(&track, step)) {
                Ok(reward) => rewards.push(reward),
                Err(message) => {
                    rewards.push(0.0);
                    errors.push(RecordError {
                        index: i as u32,
                        message,
                    });
                }
            }
        }
        Rewards { rewards, errors }
    })
}

/// Exports a type implementing [`Reward`](crate::Reward) as the plugin's
/// `weir:plugin/reward-plugin` interface. Use it once per plugin crate, at
/// the top level.
#[macro_export]
macro_rules! export_reward {
    ($ty:ty) => {
        const _: () = {
            fn __weir_assert_reward<T: $crate::Reward>() {}
            let _ = __weir_assert_reward::<$ty>;
        };

        const _: () = {
            use $crate::bindings::exports::weir::plugin::reward_plugin as __weir_raw;

            ::std::thread_local! {
                static __WEIR_INSTANCE: ::core::cell::RefCell<::core::option::Option<$ty>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct __WeirRewardExport;

            impl __weir_raw::Guest for __WeirRewardExport {
                fn init(
                    settings: __weir_raw::Settings,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::reward_init::<$ty>(&__WEIR_INSTANCE, settings)
                }

                fn process(
                    track: __weir_raw::Track,
                    steps: ::std::vec::Vec<__weir_raw::Step>,
                ) -> __weir_raw::Rewards {
                    $crate::__private::reward_process::<$ty>(&__WEIR_INSTANCE, track, steps)
                }
            }

    $crate::bindings::export!(__WeirRewardExport with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Half;
    impl Reward for Half {
        fn init(_: &Settings) -> Result<Self, String> {
            Ok(Half)
        }
        fn reward(&mut self, p: &Params<'_>) -> Result<f64, String> {
            if p.is_crashed {
                return Err("crashed".into());
            }
            let next = p.waypoints[p.closest_waypoints[1]];
            Ok(p.track_width / 2.0 + next.0)
        }
    }

    thread_local! {
        static SLOT: RefCell<Option<Half>> = const { RefCell::new(None) };
    }

    fn step(is_crashed: bool) -> Step {
        Step {
            all_wheels_on_track: true,
            x: 0.0,
            y: 0.0,
            closest_objects: (0, 0),
            closest_waypoints: (0, 1),
            distance_from_center: 0.0,
            is_crashed,
            is_left_of_center: false,
            is_offtrack: false,
            is_reversed: false,
            heading: 0.0,
            objects_distance: vec![],
            objects_heading: vec![],
            objects_left_of_center: vec![],
            objects_location: vec![],
            objects_speed: vec![],
            progress: 0.0,
            speed: 1.0,
            steering_angle: 0.0,
            steps: 1,
        }
    }

    #[test]
    fn lifecycle() {
        let track = || Track {
            waypoints: vec![(0.0, 0.0), (3.0, 0.0)],
            track_width: 1.0,
            track_length: 10.0,
        };
        let r = reward_process(&SLOT, track(), vec![step(false)]);
        assert_eq!(r.errors[0].message, crate::__private::NOT_INITIALISED);
        reward_init(&SLOT, vec![]).unwrap();
        let r = reward_process(&SLOT, track(), vec![step(false), step(true)]);
        assert_eq!(r.rewards, vec![3.5, 0.0]);
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].index, 1);
    }
}
