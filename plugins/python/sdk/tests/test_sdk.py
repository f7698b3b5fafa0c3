"""The Python SDK's pure parts, in CPython: settings, record views, the
enricher's emitter and error descriptions.

Run with: python3 -m unittest discover -s plugins/python/sdk/tests
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import weir_plugin as weir  # noqa: E402
from weir_plugin._kinds import describe  # noqa: E402


class SettingsTest(unittest.TestCase):
    def test_parse_and_require(self):
        s = weir.Settings([("a", " 1.5 "), ("b", "yes"), ("c", "x"), ("a", "2")])
        self.assertEqual(s.require("a", float), 2.0)
        self.assertIs(s.parse_or("b", False), True)
        self.assertEqual(s.parse_or("missing", 3), 3)
        self.assertIsNone(s.parse("missing", int))
        self.assertEqual(s.get("c"), "x")
        with self.assertRaisesRegex(weir.SettingError, "setting `c`: `x` is not a valid int"):
            s.require("c", int)
        with self.assertRaisesRegex(weir.SettingError, "setting `q` is required"):
            s.require("q")


class RecordTest(unittest.TestCase):
    def test_fields(self):
        r = weir.Record.of(b'{"a":1}', key=b"k", headers=[("h", b"v"), ("h", b"w")], position="42")
        self.assertEqual(r.value, b'{"a":1}')
        self.assertEqual(r.key, b"k")
        self.assertEqual(r.headers, [("h", b"v"), ("h", b"w")])
        self.assertEqual(r.header("h"), b"v")
        self.assertIsNone(r.header("x"))
        self.assertEqual(r.position, "42")
        self.assertEqual(r.json(), {"a": 1})
        self.assertIsNone(weir.Record.of(b"").key)
        self.assertEqual(weir.Record.of(b"", key=b"").key, b"")

    def test_json_is_strict(self):
        with self.assertRaises(ValueError):
            weir.Record.of(b"NaN").json()


class EmitterTest(unittest.TestCase):
    def test_a_failed_input_leaves_nothing(self):
        out = weir.Emitter()
        out.emit({"a": 1})
        mark = out._mark()
        out._input = 1
        out.emit_with("k", "text", [("h", "v")])
        out._rewind(mark)
        out._input = 2
        out.emit_with(b"k2", b"raw", [("n", b"1")])
        self.assertEqual(bytes(out._values), b'{"a":1}raw')
        self.assertEqual(out._value_ends, [7, 10])
        self.assertEqual(bytes(out._keys), b"k2")
        self.assertEqual(list(out._has_key), [0, 1])
        self.assertEqual(out._header_ends, [0, 1])
        self.assertEqual(bytes(out._header_data), b"n1")
        self.assertEqual(out._header_data_ends, [1, 2])
        self.assertEqual(out._inputs, [0, 2])


class DescribeTest(unittest.TestCase):
    def test_message_first_then_traceback(self):
        def fail():
            raise KeyError("amount")

        try:
            fail()
        except KeyError as e:
            text = describe(e)
        self.assertTrue(text.startswith("KeyError: 'amount'\nTraceback"), text)
        self.assertIn("in fail", text)


if __name__ == "__main__":
    unittest.main()


class RewardParamsTest(unittest.TestCase):
    def test_deepracer_keys_and_types(self):
        from types import SimpleNamespace as NS
        from weir_plugin._reward import params

        track = NS(waypoints=[(0.0, 0.0), (1.0, 0.5)], track_width=0.76, track_length=17.7)
        step = NS(
            all_wheels_on_track=True, x=1.5, y=2.0, closest_objects=(0, 0),
            closest_waypoints=(3, 4), distance_from_center=0.1, is_crashed=False,
            is_left_of_center=True, is_offtrack=False, is_reversed=False, heading=90.0,
            objects_distance=[], objects_heading=[], objects_left_of_center=[],
            objects_location=[(1.0, 2.0)], objects_speed=[], progress=12.5, speed=2.0,
            steering_angle=-10.0, steps=42,
        )
        waypoints = [tuple(p) for p in track.waypoints]
        p = params(track, step, waypoints)
        self.assertEqual(len(p), 23)
        self.assertEqual(p["closest_waypoints"], [3, 4])
        self.assertEqual(p["waypoints"], [(0.0, 0.0), (1.0, 0.5)])
        self.assertEqual(p["objects_location"], [(1.0, 2.0)])
        self.assertEqual((p["track_width"], p["track_length"], p["steps"]), (0.76, 17.7, 42))
        p["waypoints"].reverse()
        self.assertEqual(params(track, step, waypoints)["waypoints"][0], (0.0, 0.0),
                         "each step gets its own lists")


class AggregatorTest(unittest.TestCase):
    def test_default_accumulator_is_json(self):
        class Count(weir.Aggregator):
            _weir_abstract = True

            def zero(self, window):
                return 0

        agg, w = Count(), weir.Window(b"v-1", 0, 60_000)
        self.assertEqual(agg.load(w, None), 0)
        self.assertEqual(agg.load(w, agg.save([1, 2.5])), [1, 2.5])
        self.assertEqual(w.key_text(), "v-1")
        self.assertIsNone(weir.Window(b"", 0, 1).key_text())
        self.assertIsNone(weir.Window(b"\xff", 0, 1).key_text())


class StateTest(unittest.TestCase):
    """``state.get_many`` / ``set_many`` over a stand-in for the generated
    ``wit_world.imports.state`` module."""

    def setUp(self):
        import types

        store = {}

        def get_many(keys):
            data, ends, found = b"", [], b""
            for k in keys:
                v = store.get(k)
                data += v or b""
                ends.append(len(data))
                found += bytes([v is not None])
            return types.SimpleNamespace(data=data, ends=ends, found=found)

        def set_many(keys, values):
            self.assertEqual(len(keys), len(values))
            store.update(zip(keys, values))

        raw = types.SimpleNamespace(get_many=get_many, set_many=set_many)
        imports = types.ModuleType("wit_world.imports")
        imports.state = raw
        world = types.ModuleType("wit_world")
        world.imports = imports
        self.saved = {n: sys.modules.get(n) for n in ("wit_world", "wit_world.imports")}
        sys.modules["wit_world"] = world
        sys.modules["wit_world.imports"] = imports

    def tearDown(self):
        for name, module in self.saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module

    def test_many_round_trip(self):
        from weir_plugin import state

        state.set_many([("a", b"1"), ("empty", b""), ("c", bytearray(b"333"))])
        self.assertEqual(
            state.get_many(["c", "missing", "a", "empty"]), [b"333", None, b"1", b""]
        )
        self.assertEqual(state.get_many([]), [])
