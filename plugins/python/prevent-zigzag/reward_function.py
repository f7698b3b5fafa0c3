def reward_function(params):
    """Follows the center line (the same three bands as that reward) and
    takes a fifth off when the wheels are turned by more than 15 degrees
    either way, so the car learns to drive straight instead of weaving."""
    distance_from_center = params["distance_from_center"]
    track_width = params["track_width"]
    abs_steering = abs(params["steering_angle"])

    band_1 = 0.1 * track_width
    band_2 = 0.25 * track_width
    band_3 = 0.5 * track_width

    if distance_from_center <= band_1:
        reward = 1.0
    elif distance_from_center <= band_2:
        reward = 0.5
    elif distance_from_center <= band_3:
        reward = 0.1
    else:
        reward = 1e-3

    STEERING_LIMIT = 15.0
    if abs_steering > STEERING_LIMIT:
        reward *= 0.8

    return float(reward)
