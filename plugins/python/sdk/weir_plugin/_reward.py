"""The reward kind: DeepRacer-style step parameters in, one reward out."""

import sys
from typing import Any, Callable, Dict, List

from ._kinds import _Glue, _export, describe
from . import _kinds

Params = Dict[str, Any]


def params(track: Any, step: Any, waypoints: List[Any]) -> Params:
    """The DeepRacer ``params`` dict of ``step`` on ``track``, with the
    documented keys and Python types (floats, ints, bools, lists; points and
    waypoints are ``(x, y)`` tuples). Each step gets its own lists, so a
    reward function may change them without touching the next step's."""
    return {
        "all_wheels_on_track": step.all_wheels_on_track,
        "x": step.x,
        "y": step.y,
        "closest_objects": list(step.closest_objects),
        "closest_waypoints": list(step.closest_waypoints),
        "distance_from_center": step.distance_from_center,
        "is_crashed": step.is_crashed,
        "is_left_of_center": step.is_left_of_center,
        "is_offtrack": step.is_offtrack,
        "is_reversed": step.is_reversed,
        "heading": step.heading,
        "objects_distance": list(step.objects_distance),
        "objects_heading": list(step.objects_heading),
        "objects_left_of_center": list(step.objects_left_of_center),
        "objects_location": [tuple(p) for p in step.objects_location],
        "objects_speed": list(step.objects_speed),
        "progress": step.progress,
        "speed": step.speed,
        "steering_angle": step.steering_angle,
        "steps": step.steps,
        "track_length": track.track_length,
        "track_width": track.track_width,
        "waypoints": list(waypoints),
    }


class Reward:
    """Computes one reward per DeepRacer step from its ``params`` dict."""

    _weir_abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _export(cls, "RewardPlugin", _RewardPlugin)

    def init(self, settings: Any) -> None:
        """Called once per instance before any step."""

    def reward(self, params: Params) -> float:
        """The reward of one step."""
        raise NotImplementedError


class _RewardPlugin(_Glue):
    def process(self, track: Any, steps: List[Any]) -> Any:  # type: ignore[override]
        try:
            return self._rewards(track, steps)
        except BaseException as e:
            _kinds._failed(e)
            raise

    def _rewards(self, track: Any, steps: List[Any]) -> Any:
        from wit_world.exports.reward_plugin import Rewards
        from wit_world.imports.types import RecordError

        reward_one = _kinds._plugin.reward
        waypoints = [tuple(p) for p in track.waypoints]
        rewards: List[float] = []
        errors: List[Any] = []
        for i, step in enumerate(steps):
            try:
                rewards.append(float(reward_one(params(track, step, waypoints))))
            except Exception as e:
                rewards.append(0.0)
                errors.append(RecordError(i, describe(e)))
        return Rewards(rewards, errors)


def deepracer(reward_function: Callable[[Params], float]) -> None:
    """Makes the calling module a reward plugin that runs an AWS DeepRacer
    ``reward_function(params)`` unchanged::

        import weir_plugin as weir
        from reward_function import reward_function

        weir.deepracer(reward_function)

    Each step's ``params`` carries the keys DeepRacer documents, including
    ``waypoints``, ``track_width`` and ``track_length``; the returned number
    is the step's reward.
    """

    class DeepRacer(Reward):
        _weir_abstract = True

        def reward(self, params: Params) -> float:
            return reward_function(params)

    caller = sys._getframe(1).f_globals
    caller["RewardPlugin"] = _RewardPlugin
    _RewardPlugin._weir_class = DeepRacer
