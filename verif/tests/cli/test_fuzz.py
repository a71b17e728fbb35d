"""Fuzzing the command line and the public API (hypothesis, derandomized, bounded).

Every command and unit gets random argument lists: the answer is either exit status 0 with a complete,
lint-clean file, or exit status 2 with exactly one stderr line naming a parameter -- never a traceback, never a
partial file. ``synth``, ``sweep`` and ``mutate`` get their tools replaced by a stub (no FPGA flow, no
simulator runs here): an argument list that would reach them is a valid one. The public API (``golden.lookup``,
``golden.minifloat``, ``golden.posit``, ``build_unit``) either returns an object or raises ValueError/TypeError
whose message names a parameter.
"""

import contextlib
import gc
import io
import re
import string
import traceback
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmtforge import golden
from fmtforge.rtl.cli.main import main
from fmtforge.rtl.flow import lint
from fmtforge.rtl.units.registry import UNITS, build_unit
from fmtforge.verif.support.contract import unit_names

# Deterministic (the same examples every run) and bounded (the whole file runs in well under a minute and a
# half on two cores).
FUZZ = settings(derandomize=True, deadline=None, database=None, max_examples=60,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

_FORMATS = [*golden.CATALOG, *golden.ALIASES, "e3m4", "e5m10_b3", "e2m1_none", "posit12_es3", "cfloat8_1_5_2_b20",
            "e0m3", "e16m1", "e4m64", "posit2_es0", "posit8_es5", "fp9", "e4m3_fx", "", "0x7f"]
_JUNK = ["", "-", "--", "-x", "--no-such-option", "0", "-1", "1e3", "0x10", "999999999999", "nan", "é", "a b",
         "9bad name", "module", "/", "--help-me"]


class ToolsWouldRun(Exception):
    """Raised by the stubs of the FPGA flow, the sweep and the mutation score: the arguments were valid."""


@pytest.fixture(autouse=True)
def no_tools(monkeypatch):
    """synth / sweep / mutate never run their tools here."""
    def stub(*args, **kwargs):
        raise ToolsWouldRun
    import fmtforge.rtl.cli.synth as synth_cli
    import fmtforge.verif.support.campaigns.mutate as mutate
    import fmtforge.verif.support.campaigns.sweep as sweep
    monkeypatch.setattr(synth_cli, "synth_one", stub)
    monkeypatch.setattr(synth_cli, "synth_all", stub)
    monkeypatch.setattr(sweep, "run_sweep", stub)
    monkeypatch.setattr(mutate, "mutate_unit", stub)


def cli(argv):
    """``fmtforge ARGV`` in-process: (exit status, stdout, stderr); "tools" when a stubbed tool was reached.
    Any other exception is a failure of the test, with its traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        # A unit whose options fail its checks leaves a half-built Amaranth component behind, which warns
        # (UnusedElaboratable) when collected: the known bug test_unconvertible_format_leaves_no_component
        # records. Collected here, silently, so that it does not land in another test.
        warnings.simplefilter("ignore")
        try:
            status = main(argv)
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1 if e.code else 0
        except ToolsWouldRun:
            status = "tools"
        except Exception:
            pytest.fail(f"fmtforge {argv!r} raised:\n{traceback.format_exc()}")
        gc.collect()
    return status, out.getvalue(), err.getvalue()


def _parameter_words(argv):
    """Words a good error line may name: every option and argument of every command, and argv's own flags."""
    words = {"format", "unit", "command", "name", "output", "target", "seed", "inputs", "range", "jobs", "count",
             "scheduler", "json", "output-dir", "output_dir", "markdown", "FORMAT", "COMMAND", "UNIT", "-o"}
    for unit in UNITS.values():
        for o in unit.options:
            words |= {o.name, o.flag}
    words |= {a.split("=")[0] for a in argv if a.startswith("-") and len(a) > 1}
    return words


def check_refusal(argv, status, out, err, output=None):
    """Exit status 2, one stderr line naming a parameter, nothing written."""
    assert status == 2, f"fmtforge {argv!r}: exit status {status!r}, stderr {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"fmtforge {argv!r}: not one stderr line: {err!r}"
    assert "Traceback" not in err
    words = _parameter_words(argv)
    if "unrecognized arguments: " in lines[0]:  # argparse names the arguments it does not take: argv's own
        words = {lines[0].split("unrecognized arguments: ")[1].split(" (see ")[0]} - {""}
    assert any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", lines[0]) for w in words), \
        f"fmtforge {argv!r}: the error names no parameter: {lines[0]!r}"
    if output is not None:
        assert not output.exists(), f"fmtforge {argv!r} failed but wrote {output}"
        assert not [p for p in output.parent.iterdir() if p.name.endswith(".tmp")], "a temporary file was left"


def check_verilog(argv, path):
    text = path.read_text()
    top = re.search(r"^module (\w+)\(", text, re.M)
    assert top and text.rstrip().endswith("endmodule"), f"fmtforge {argv!r}: incomplete Verilog"
    lint(text, top[1])


def _option_tokens(unit):
    """Flags and values for ``unit``'s options: the right ones, neighbours of the right ones, junk."""
    tokens = []
    for o in unit.options:
        tokens.append(st.just([o.flag]))
        if o.kind == "int":
            lo, hi = o.range
            values = st.one_of(st.integers(lo - 3, hi + 3).map(str), st.sampled_from(_JUNK))
        elif o.kind == "choice":
            values = st.one_of(st.sampled_from(o.choices), st.sampled_from(_JUNK))
        elif o.kind == "format":
            values = st.sampled_from(_FORMATS)
        else:
            values = st.sampled_from(_JUNK)
        tokens.append(st.tuples(st.just(o.flag), values).map(list))
    tokens.append(st.sampled_from(_JUNK).map(lambda t: [t]))
    tokens.append(st.tuples(st.just("--name"), st.sampled_from(["ok_name", *_JUNK])).map(list))
    return st.lists(st.one_of(*tokens), max_size=6).map(lambda chunks: [t for c in chunks for t in c])


def _invalid_option(unit):
    """One option surely refused: an int out of range, an unknown choice or format, or a flag no unit has."""
    bad = [st.just(["--no-such-option"])]
    for o in unit.options:
        if o.kind == "int":
            bad.append(st.sampled_from([str(o.range[0] - 1), str(o.range[1] + 1), "x"]).map(lambda v, f=o.flag: [f, v]))
        elif o.kind == "choice":
            bad.append(st.just([o.flag, "no_such_choice"]))
        elif o.kind == "format":
            bad.append(st.sampled_from(["fp9", "e0m3", "posit2_es0", ""]).map(lambda v, f=o.flag: [f, v]))
    return st.one_of(*bad)


# -- commands without files ------------------------------------------------------------------------------

@FUZZ
@given(st.sampled_from(["list", "units", "info", "units --markdown", "list --x", "info fp32 bf16", "nope", ""]),
       st.lists(st.one_of(st.sampled_from(_FORMATS), st.sampled_from(_JUNK), st.text(string.printable, max_size=8)),
                max_size=3))
def test_fuzz_commands(command, extra):
    argv = command.split() + extra
    status, out, err = cli(argv)
    if status == 0:
        assert out and "Traceback" not in err
    else:
        check_refusal(argv, status, out, err)


@FUZZ
@given(st.one_of(st.sampled_from(_FORMATS), st.text(max_size=12),
                 st.builds("e{}m{}_b{}".format, st.integers(-2, 17), st.integers(-2, 66), st.integers(-99, 99))))
def test_fuzz_info(name):
    argv = ["info", name]
    status, out, err = cli(argv)
    if status == 0:
        assert out.startswith(repr(golden.lookup(name))) and not err
    else:
        check_refusal(argv, status, out, err)


# -- generate ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", unit_names())
@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_fuzz_generate_refusals(kind, data, tmp_path_factory):
    """Argument lists with at least one bad option: refused in one line, nothing written."""
    unit = UNITS[kind]
    argv = data.draw(_option_tokens(unit)) + data.draw(_invalid_option(unit))
    argv = data.draw(st.permutations(argv)) if len(argv) < 6 else argv
    out = tmp_path_factory.mktemp("gen") / "u.v"
    argv = ["generate", kind, *argv, "-o", str(out)]
    status, stdout, err = cli(argv)
    if status == 0:  # a reordering can make a junk value the argument of a flag that takes anything (--name)
        check_verilog(argv, out)
    else:
        check_refusal(argv, status, stdout, err, out)


# Valid argument lists cost a Yosys run each (~1 s) and a lint: a few per unit. The values come from each unit's
# contract (``fuzz``: verif/support/contract.py), so a new unit is fuzzed without this file changing.
def _valid(unit):
    """Flags with values the unit's contract declares valid one by one (their combinations may be refused)."""
    return st.fixed_dictionaries({unit.option(name).flag: st.sampled_from([str(v) for v in values])
                                  for name, values in unit.need("fuzz").items() if unit.option(name).kind != "bool"})


@pytest.mark.parametrize("kind", unit_names())
def test_fuzz_options_are_valid_one_by_one(kind):
    """Every value a unit's contract offers the fuzzer passes that option's own check (a typo in the contract
    would otherwise only show up as refusals, which the fuzzer accepts)."""
    unit = UNITS[kind]
    fuzz = unit.need("fuzz")
    assert fuzz, f"{kind} declares no option to fuzz"
    for name, values in fuzz.items():
        assert values, f"{kind}: fuzz gives {name} no value"
        for v in values:
            unit.option(name).check(v)


@pytest.mark.parametrize("kind", unit_names())
@settings(FUZZ, max_examples=3)
@given(data=st.data())
def test_fuzz_generate_valid(kind, data, tmp_path_factory):
    """Valid options (some flags on): exit 0, a complete, lint-clean module; or (an unsupported pair) a refusal."""
    options = data.draw(_valid(UNITS[kind]))
    flags = data.draw(st.lists(st.sampled_from([o.flag for o in UNITS[kind].options if o.kind == "bool"] or ["--"]),
                               unique=True, max_size=2)) if any(o.kind == "bool" for o in UNITS[kind].options) else []
    out = tmp_path_factory.mktemp("gen") / "u.v"
    argv = ["generate", kind, *[t for kv in options.items() for t in kv], *flags, "-o", str(out)]
    status, stdout, err = cli(argv)
    if status == 0:
        check_verilog(argv, out)
    else:
        check_refusal(argv, status, stdout, err, out)


# -- synth, sweep, mutate: argument errors only -------------------------------------------------------------

@pytest.mark.parametrize("command", ["synth", "sweep", "mutate"])
@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_fuzz_tool_commands_refuse_bad_arguments(command, data, tmp_path_factory):
    kind = data.draw(st.sampled_from(list(UNITS)))
    unit = UNITS[kind]
    extra = {"synth": [["--target", "xx"], ["--target", "ice40"], ["--seed", "x"], ["--json"]],
             "sweep": [["--inputs", "0"], ["--inputs", "-3"], ["--inputs", "10"], ["--range", "5:1"],
                       ["--range", "x"], ["--seed", "1.5"], ["--jobs", "x"]],
             "mutate": [["--count", "0"], ["--count", "-1"], ["--count", "x"], ["--seed", "x"]]}[command]
    argv = data.draw(_option_tokens(unit)) + data.draw(_invalid_option(unit))
    argv += [t for c in data.draw(st.lists(st.sampled_from(extra), max_size=2)) for t in c]
    d = tmp_path_factory.mktemp(command)
    argv = [command, kind, *argv, "--json" if command == "sweep" else "--output-dir", str(d / "out")]
    if command == "synth" and "--json" in argv[:-2]:
        argv = [a for a in argv if a != "--json"] + ["--json"]
    status, stdout, err = cli(argv)
    if status == "tools":  # valid after all (a junk value landed where anything is allowed): not run here
        return
    check_refusal(argv, status, stdout, err)
    assert not (d / "out").exists()


# -- the public API -----------------------------------------------------------------------------------------

_ANY = st.one_of(st.none(), st.booleans(), st.integers(-5, 70), st.floats(allow_nan=True), st.text(max_size=5),
                 st.sampled_from(["ieee", "fn", "fnuz", "none", "fp32"]), st.lists(st.integers(0, 3), max_size=2))


def check_api_error(call, e, names):
    assert isinstance(e, (ValueError, TypeError)), f"{call}: {type(e).__name__}: {e}"
    assert "\n" not in str(e), f"{call}: a message of several lines: {e}"
    assert any(n in str(e) for n in names), f"{call}: the message names no parameter: {e}"


@FUZZ
@given(st.one_of(st.sampled_from(_FORMATS), st.text(max_size=10), _ANY,
                 st.builds("e{}m{}_b{}_{}".format, st.integers(-1, 17), st.integers(-1, 66), st.integers(-99, 99),
                           st.sampled_from(golden.POLICIES)),
                 st.builds("posit{}_es{}".format, st.integers(0, 70), st.integers(0, 7))))
def test_fuzz_lookup(name):
    try:
        fmt = golden.lookup(name)
    except Exception as e:  # noqa: BLE001 - checked below
        check_api_error(f"lookup({name!r})", e, ("format", "exp_bits", "man_bits", "bias", "specials", " n ",
                                                  "n must", "es must"))
        return
    assert golden.lookup(fmt.name) == fmt  # its name reads back
    if fmt.width <= 12:
        assert len(fmt.decode(fmt.all_bits())) == 1 << fmt.width


_MINIFLOAT_KEYS = ("exp_bits", "man_bits", "bias", "subnormals", "specials", "explicit_integer", "name")


@FUZZ
@given(st.dictionaries(st.sampled_from(_MINIFLOAT_KEYS + ("exponent",)), _ANY, max_size=7),
       st.integers(1, 15), st.integers(0, 20))
def test_fuzz_minifloat(kw, e, m):
    kw = {"exp_bits": e, "man_bits": m, **kw}
    try:
        fmt = golden.minifloat(**kw)
    except Exception as err:  # noqa: BLE001 - checked below
        check_api_error(f"minifloat(**{kw!r})", err, _MINIFLOAT_KEYS + ("exponent",))
        return
    assert fmt.width == 1 + fmt.exp_bits + fmt.man_bits
    if fmt.width <= 12:
        assert len(fmt.decode(fmt.all_bits())) == 1 << fmt.width


@FUZZ
@given(_ANY, _ANY)
def test_fuzz_posit(n, es):
    try:
        fmt = golden.posit(n, es)
    except Exception as e:  # noqa: BLE001 - checked below
        check_api_error(f"posit({n!r}, {es!r})", e, ("n must", "es must"))
        return
    assert (fmt.n, fmt.es) == (n, es)


@FUZZ
@given(st.one_of(st.sampled_from(list(UNITS)), st.text(max_size=6)), st.data())
def test_fuzz_build_unit(kind, data):
    unit = UNITS.get(kind) or UNITS["convert"]
    keys = [o.name for o in unit.options] + ["bogus"]
    values = st.one_of(_ANY, st.sampled_from(_FORMATS))
    options = data.draw(st.dictionaries(st.sampled_from(keys), values, max_size=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # see cli(): half-built components warn when collected
        try:
            component, name = build_unit(kind, **options)
        except Exception as e:  # noqa: BLE001 - checked below
            check_api_error(f"build_unit({kind!r}, **{options!r})", e, keys + ["unit", "src", "dst"])
            return
        finally:
            gc.collect()
    assert name == component.name


# -- regressions: what the fuzzer found ----------------------------------------------------------------------

def test_usage_errors_are_one_line():
    """argparse printed its usage block (several lines) before the error; now the error alone, naming it."""
    status, out, err = cli(["generate", "posit-decode", "--n", "2"])
    assert status == 2 and err == ("fmtforge generate posit-decode: error: argument --n: n must be an integer in "
                                   "3..64, not 2 (see fmtforge generate posit-decode --help)\n")
    status, out, err = cli(["nope"])
    assert status == 2 and len(err.splitlines()) == 1 and "invalid choice: 'nope'" in err


@pytest.mark.parametrize("name", ["fp64", "x87", "e15m63", "e15m63_b-1048576"])
def test_info_on_formats_beyond_float64(name):
    """`fmtforge info fp64` (and x87) ended in an OverflowError traceback: Format.dynamic_range divides
    Fractions whose ratio float64 cannot hold, and the value display converted 2**16384 to float."""
    status, out, err = cli(["info", name])
    assert status == 0 and not err and "dynamic_range_binades" in out
    if name == "fp64":
        assert "dynamic_range_binades  2098" in out


def test_dynamic_range_of_fp64():
    assert golden.lookup("fp64").dynamic_range == 2098


def test_unconvertible_format_leaves_no_component():
    """build_unit("convert", src="e8m0") raised, and left a half-built Converter (its checks ran inside the
    Amaranth component's constructor) that warned UnusedElaboratable when collected: in another test, or on the
    terminal after the error line. make_converter checks first now."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="src: e8m0"):
            build_unit("convert", src="e8m0", dst="fp32")
        gc.collect()
    assert not [w for w in seen if "UnusedElaboratable" in type(w.message).__name__]


def test_sweep_jobs_zero_is_refused(monkeypatch):
    monkeypatch.undo()  # the real run_sweep: it fails on the argument before any simulator runs
    status, out, err = cli(["sweep", "convert", "--src", "fp32", "--dst", "bf16", "--inputs", "10", "--jobs", "0"])
    assert status == 2 and "jobs" in err


def test_build_unit_names_the_format_option():
    """build_unit("convert", src=None) said "unknown format None; ..." without naming src (the CLI's argparse
    added "argument --src:", the API nothing)."""
    with pytest.raises(ValueError, match=r"^src: unknown format None; known formats:"):
        build_unit("convert", src=None, dst="bf16")
    with pytest.raises(ValueError, match=r"^dst: unknown format 'fp9'"):
        build_unit("convert", src="fp32", dst="fp9")


def test_parametric_posit_names_read_back():
    """golden.posit(3, 2) was named posit3, a name golden.lookup refuses: the name of an es = 2 posit outside the
    catalog now spells es, as every parametric name reads back."""
    for n in (3, 12, 17, 63):
        fmt = golden.posit(n, 2)
        assert fmt.name == f"posit{n}_es2" and golden.lookup(fmt.name) == fmt
    assert golden.posit(16, 2).name == "posit16"


def test_odd_arguments_are_shown_on_the_one_line():
    status, out, err = cli(["list", "", "a\rb"])
    assert status == 2 and err == "fmtforge: error: unrecognized arguments: '' 'a\\rb' (see fmtforge --help)\n"
