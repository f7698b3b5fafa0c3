"""Test fixture (filter): prints a line in `init`, then raises where the
setting `raise_in` says: `init`; `record` (each record whose value contains
"raise" fails alone); `call` (the whole call fails: a BaseException that is
not an Exception escapes the per-record handling). Keeps everything else."""

import weir_plugin as weir


class Fatal(BaseException):
    """Not an Exception: fails the whole call."""


def explode(where):
    raise RuntimeError(f"raised in {where} as configured")


class Raiser(weir.Filter):
    def init(self, settings):
        print("test_raise: hello from init")
        self.raise_in = settings.get("raise_in", "")
        if self.raise_in == "init":
            explode("init")

    def keep(self, record):
        if self.raise_in == "call":
            raise Fatal("the whole call fails as configured")
        if self.raise_in == "record" and b"raise" in record.value:
            explode("record")
        return True
