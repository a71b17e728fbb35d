# amaranth: UnusedElaboratable=no
"""The test suite's Verilog cache (rtl.flow.verilog_cache): a hit returns the text a fresh generation gives;
another option, another module name, an edited generator or no key each miss it; unset, nothing is written."""

from fmtforge.rtl.flow import verilog_cache
from fmtforge.rtl.flow.verilog import to_verilog
from fmtforge.rtl.units import UNITS
from fmtforge.verif.support.batch.bundle import Bundle


def _unit(**kw):
    unit = UNITS["convert"].create(src="fp16", dst="fp8_e4m3", **kw)
    verilog_cache.mark_used(unit)  # most are never elaborated here
    return unit


def test_a_hit_is_what_generation_gives(tmp_path, monkeypatch):
    monkeypatch.setenv(verilog_cache.ENV, str(tmp_path))
    first = to_verilog(_unit(), "m")
    entries = list(tmp_path.glob("m-*.v"))
    assert len(entries) == 1 and entries[0].read_text() == first
    entries[0].write_text("// planted\n")  # a hit is served from the entry, not generated again
    assert to_verilog(_unit(), "m") == "// planted\n"
    monkeypatch.delenv(verilog_cache.ENV)
    assert to_verilog(_unit(), "m") == first  # off: generated, and equal to what was cached


def test_what_misses(tmp_path, monkeypatch):
    monkeypatch.setenv(verilog_cache.ENV, str(tmp_path))
    paths = {verilog_cache.cache_path(_unit(), "m"), verilog_cache.cache_path(_unit(saturate=True), "m"),
             verilog_cache.cache_path(_unit(), "n")}
    assert len(paths) == 3
    a = Bundle("fp16", [dict(dst="fp32", rounding="rne", saturate=False), dict(dst="bf16", rounding="rtz",
                                                                           saturate=False)])
    b = Bundle("fp16", list(reversed(a.configs)))  # the same converters in another order: another module
    verilog_cache.mark_used([a, b])
    assert verilog_cache.cache_path(a, "m") != verilog_cache.cache_path(b, "m")
    before = verilog_cache.cache_path(_unit(), "m")
    monkeypatch.setattr(verilog_cache, "_source_digest", lambda: "an edited generator")
    assert verilog_cache.cache_path(_unit(), "m") != before
    keyless = _unit()
    del keyless.verilog_key
    assert verilog_cache.cache_path(keyless, "m") is None


def test_off_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(verilog_cache.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert verilog_cache.cache_path(_unit(), "m") is None
    to_verilog(_unit(), "m")
    assert not any(tmp_path.iterdir())


def test_a_unit_defined_outside_the_digest_is_not_cached(tmp_path, monkeypatch):
    """A unit class from a test file (or a document's example) is not covered by the key: never cached."""
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out
    from amaranth.hdl import Module

    class Toy(wiring.Component):
        def __init__(self):
            super().__init__({"i": In(4), "o": Out(4)})
            self.verilog_key = "toy"

        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.o.eq(~self.i)
            return m

    monkeypatch.setenv(verilog_cache.ENV, str(tmp_path))
    assert verilog_cache.cache_path(Toy(), "toy") is None
    assert "module toy" in to_verilog(Toy(), "toy") and not any(tmp_path.iterdir())


def test_a_family_registered_at_run_time_turns_it_off(tmp_path, monkeypatch):
    """A format family whose hardware is defined outside the digested sources (docs/architecture.md registers
    one) could change the Verilog of a digested unit without changing its key: no caching while it is there."""
    from fmtforge.rtl import formats

    class Outside:  # stands for an unpack class defined in a test or a document
        pass

    monkeypatch.setenv(verilog_cache.ENV, str(tmp_path))
    assert verilog_cache.cache_path(_unit(), "m") is not None
    monkeypatch.setattr(formats, "FAMILIES", dict(formats.FAMILIES, toy=formats.RtlFamily(
        unpack=Outside, pack=None, unpack_levels=1, pack_levels=None, reason="a toy")))
    assert verilog_cache.cache_path(_unit(), "m") is None
