// {{name}}: a DeepRacer-style reward function that rewards staying near
// the center line. `rewardFunction` gets DeepRacer's `params` (snake_case
// keys, as AWS DeepRacer documents them).

import * as weir from "./sdk/weir.js";

function rewardFunction(params) {
  const trackWidth = params.track_width;
  const distance = params.distance_from_center;
  if (distance <= 0.1 * trackWidth) return 1.0;
  if (distance <= 0.25 * trackWidth) return 0.5;
  if (distance <= 0.5 * trackWidth) return 0.1;
  return 1e-3;
}

export const rewardPlugin = weir.deepracer(rewardFunction);
