// The reward kind: DeepRacer-style step parameters in, one reward out.

import { fileOf, parseStack } from "./errors.js";
import { exportsOf, notAPromise, recordError } from "./kinds.js";

// Frames from this file down are the SDK's, left out of reported stacks.
const HERE = fileOf(parseStack(new Error().stack)[0]?.location ?? "");

/**
 * The DeepRacer `params` of `step` on `track`: an object with the keys
 * DeepRacer documents (snake_case, `waypoints`, `track_width` and
 * `track_length` included), numbers as JS numbers (64-bit floats, as
 * DeepRacer's Python floats), points as `[x, y]` arrays. Each step gets
 * its own arrays, so a reward function may change them freely.
 */
export function params(track, step, waypoints) {
  return {
    all_wheels_on_track: step.allWheelsOnTrack,
    x: step.x,
    y: step.y,
    closest_objects: Array.from(step.closestObjects),
    closest_waypoints: Array.from(step.closestWaypoints),
    distance_from_center: step.distanceFromCenter,
    is_crashed: step.isCrashed,
    is_left_of_center: step.isLeftOfCenter,
    is_offtrack: step.isOfftrack,
    is_reversed: step.isReversed,
    heading: step.heading,
    objects_distance: Array.from(step.objectsDistance),
    objects_heading: Array.from(step.objectsHeading),
    objects_left_of_center: Array.from(step.objectsLeftOfCenter),
    objects_location: Array.from(step.objectsLocation, (p) => [p[0], p[1]]),
    objects_speed: Array.from(step.objectsSpeed),
    progress: step.progress,
    speed: step.speed,
    steering_angle: step.steeringAngle,
    steps: step.steps,
    track_length: track.trackLength,
    track_width: track.trackWidth,
    waypoints: waypoints.map((p) => [p[0], p[1]]),
  };
}

/** A reward plugin: `reward(params)` returns the step's reward, a number. */
export function reward(plugin) {
  return exportsOf("reward", ["reward"], plugin, {
    process(track, steps) {
      const waypoints = Array.from(track.waypoints, (p) => [p[0], p[1]]);
      const rewards = new Float64Array(steps.length);
      const errors = [];
      for (let i = 0; i < steps.length; i++) {
        try {
          const result = plugin.reward(params(track, steps[i], waypoints));
          if (result !== null && typeof result === "object" && typeof result.then === "function") throw notAPromise("reward");
          if (typeof result !== "number") throw new TypeError(`reward must return a number, not ${typeof result}`);
          rewards[i] = result;
        } catch (error) {
          errors.push(recordError(i, error, HERE));
        }
      }
      return { rewards, errors };
    },
  });
}

/**
 * A reward plugin of a DeepRacer-style `rewardFunction(params)`:
 * `export const rewardPlugin = weir.deepracer(rewardFunction);`
 */
export function deepracer(rewardFunction) {
  if (typeof rewardFunction !== "function") {
    throw new TypeError("weir.deepracer(rewardFunction): a function of params is needed");
  }
  return reward({ reward: rewardFunction });
}
