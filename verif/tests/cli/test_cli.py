"""The fmtforge command line: what it writes and how it refuses bad input."""

import subprocess
import sys

import pytest

from fmtforge.rtl.cli.main import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "fmtforge.rtl.cli", *args], capture_output=True, text=True)


def test_generate_writes_named_module(tmp_path):
    out = tmp_path / "u.v"
    assert main(["generate", "convert", "--src", "fp32", "--dst", "bf16", "--name", "my_cvt", "-o", str(out)]) == 0
    text = out.read_text()
    assert "module my_cvt(" in text and "input [31:0] i;" in text and "output [15:0] o;" in text


def test_default_name_spells_parameters(tmp_path):
    out = tmp_path / "u.v"
    main(["generate", "convert", "--src", "fp32", "--dst", "bf16", "--rounding", "rtz", "--saturate", "-o", str(out)])
    assert "module convert_fp32_to_bf16_rtz_sat(" in out.read_text()


def test_flags_port_only_when_asked(tmp_path):
    out = tmp_path / "u.v"
    main(["generate", "convert", "--src", "fp32", "--dst", "bf16", "--flags", "-o", str(out)])
    assert "output [4:0] flags;" in out.read_text()


def test_list_names_formats_and_units():
    p = run("list")
    assert p.returncode == 0
    assert "fp32" in p.stdout and "bf16" in p.stdout and "convert" in p.stdout and "rne" in p.stdout


@pytest.mark.parametrize("args, message", [
    (["--src", "fp9", "--dst", "bf16"], "argument --src: unknown format 'fp9'; known formats:"),
    (["--src", "fp32", "--dst", "bf16", "--rounding", "up"], "argument --rounding: invalid choice: 'up'"),
    (["--src", "fp32", "--dst", "bf16", "--rand-bits", "0", "--rounding", "stochastic"],
     "rand_bits must be an integer in 1..32, not 0"),
])
def test_bad_input_is_one_clear_line(args, message, tmp_path):
    p = run("generate", "convert", *args, "-o", str(tmp_path / "x.v"))
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr


def test_help_everywhere():
    for args in ([], ["generate"], ["generate", "convert"], ["list"]):
        p = run(*args, "--help")
        assert p.returncode == 0 and "usage: fmtforge" in p.stdout


def test_info_prints_facts_and_the_value_table():
    p = run("info", "fp8_e4m3")
    assert p.returncode == 0
    assert "max                    448" in p.stdout and "min_subnormal          2**-9" in p.stdout
    assert "0x7e     448.0" in p.stdout and "0x7f     NaN" in p.stdout and "0xff     NaN" in p.stdout
    p = run("info", "posit8")
    assert "0x80     NaR" in p.stdout and "0x7f     16777216.0" in p.stdout
    p = run("info", "posit16")
    assert "max                    2**56" in p.stdout and "pattern  value" not in p.stdout  # no table beyond 8 bits


def test_list_shows_families_and_aliases():
    p = run("list")
    assert p.returncode == 0
    out = p.stdout
    assert out.index("floats:") < out.index("posits:") < out.index("integers:")
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("fp8_e4m3 "))
    assert "float8_e4m3fn" in line and "e4m3" in line


def test_one_name_per_format(tmp_path):
    """Every spelling of E5M2 generates the same module name."""
    for spelling in ("e5m2", "float8_e5m2", "fp8_e5m2"):
        out = tmp_path / f"{spelling}.v"
        assert main(["generate", "convert", "--src", "fp32", "--dst", spelling, "-o", str(out)]) == 0
        assert "module convert_fp32_to_fp8_e5m2_rne(" in out.read_text()


def test_closed_pipe_ends_quietly():
    p = subprocess.run(f"{sys.executable} -m fmtforge.rtl.cli info fp8_e4m3 | head -1", shell=True,
                       capture_output=True, text=True)
    assert p.returncode == 0 and "Traceback" not in p.stderr and p.stdout.startswith("Minifloat(")


@pytest.mark.parametrize("args, message", [
    (["--name", "9bad name"], "name must be a Verilog identifier"),
    (["--name", "module"], "name must be a Verilog identifier"),
    (["--name", ""], "name must be a Verilog identifier"),
    (["-o", "/proc/no/such/dir/x.v"], "--output '/proc/no/such/dir/x.v' cannot be written"),
    (["-o", "/"], "--output must be a file path, not the directory '/'"),
])
def test_bad_outputs_are_one_line_and_write_nothing(tmp_path, args, message):
    p = run("generate", "convert", "--src", "fp32", "--dst", "bf16", *args)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and p.stdout == ""


def test_generate_without_output_writes_stdout():
    p = run("generate", "convert", "--src", "fp32", "--dst", "bf16")
    assert p.returncode == 0 and "module convert_fp32_to_bf16_rne(" in p.stdout and "endmodule" in p.stdout


def test_synth_on_a_part_the_unit_is_not_written_for_is_one_line():
    """qmac --dsp ecp5 instantiates ECP5 MULT18X18D blocks: synthesising it for an iCE40 is refused before any
    tool runs."""
    p = run("synth", "qmac", "--lanes", "4", "--dsp", "ecp5", "--target", "ice40")
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "target: qmac --lanes 4 --dsp ecp5 is written for ecp5" in p.stderr and p.stdout == ""
