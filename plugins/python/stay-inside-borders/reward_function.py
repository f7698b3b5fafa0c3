def reward_function(params):
    """Rewards the car for keeping all four wheels on the track with a
    margin of at least 5 cm to the nearer border; anything else earns
    almost nothing."""
    all_wheels_on_track = params["all_wheels_on_track"]
    distance_from_center = params["distance_from_center"]
    track_width = params["track_width"]

    reward = 1e-3
    margin = 0.5 * track_width - distance_from_center
    if all_wheels_on_track and margin >= 0.05:
        reward = 1.0

    return float(reward)
