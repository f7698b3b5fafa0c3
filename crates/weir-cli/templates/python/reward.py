"""{{name}}: a DeepRacer reward function that rewards staying near the
center line. `reward_function` is written as for AWS DeepRacer and runs
unchanged."""

import weir_plugin as weir


def reward_function(params):
    track_width = params["track_width"]
    distance = params["distance_from_center"]
    if distance <= 0.1 * track_width:
        reward = 1.0
    elif distance <= 0.25 * track_width:
        reward = 0.5
    elif distance <= 0.5 * track_width:
        reward = 0.1
    else:
        reward = 1e-3
    return float(reward)


weir.deepracer(reward_function)
