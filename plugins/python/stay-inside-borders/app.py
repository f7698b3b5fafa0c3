"""Reward plugin: the DeepRacer reward function in reward_function.py,
unchanged, run by the SDK's DeepRacer adapter."""

import weir_plugin as weir
from reward_function import reward_function

weir.deepracer(reward_function)
