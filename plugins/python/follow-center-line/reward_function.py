def reward_function(params):
    """Rewards the car for staying near the center line: three bands, each
    further from the line and paying less, and almost nothing beyond the
    last one (half the track width, where the car leaves the track)."""
    track_width = params["track_width"]
    distance_from_center = params["distance_from_center"]

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
        reward = 1e-3  # off the track, or about to be

    return float(reward)
