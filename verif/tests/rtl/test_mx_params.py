# amaranth: UnusedElaboratable=no
"""mx-quantize / mx-dequantize without a simulator: parameters, names, bad CLI input (that the classes take
the registry's defaults is test_registry.py's: they declare none)."""

import subprocess
import sys

import pytest

from fmtforge.rtl.units.registry import build_unit


@pytest.mark.parametrize("kind, options, name", [
    ("mx-quantize", {}, "mx_quantize_fp32_to_fp8_e4m3_k32_l4_floor_s3"),
    ("mx-quantize", dict(element="int8", src="bf16", block_size=64, lanes=64, scale_mode="even", stages=0),
     "mx_quantize_bf16_to_int8_k64_l64_even"),
    ("mx-quantize", dict(scheme="nvfp4", lanes=16, scale_rounding="rup"), "mx_quantize_fp32_to_nvfp4_l16_rup_s5"),
    ("mx-quantize", dict(scheme="nvfp4", stages=2), "mx_quantize_fp32_to_nvfp4_l4_rne_s2"),
    ("mx-dequantize", {}, "mx_dequantize_mx_fp8_e4m3_to_fp32_l4_s3"),
    ("mx-dequantize", dict(scheme="nvfp4", dst="bf16", lanes=1, stages=0), "mx_dequantize_nvfp4_to_bf16_l1"),
])
def test_names_and_layouts(kind, options, name):
    unit, got = build_unit(kind, **options)
    unit._MustUse__silence = True  # built to be inspected, not elaborated
    assert got == name
    L, w = unit.lanes, unit.elem.width
    if kind == "mx-quantize":
        assert unit.out_layout.size == L * w + 9 and unit.in_layout.size == L * unit.src.width
        assert unit.beats * L == unit.block_size
    else:
        assert unit.in_layout.size == L * w + 9 and unit.out_layout.size == L * unit.dst.width + 1
    assert hasattr(unit, "tensor_scale") == (options.get("scheme") == "nvfp4")


@pytest.mark.parametrize("kind, options, message", [
    ("mx-quantize", dict(lanes=5), r"lanes must divide the block size 32 \(one of 1, 2, 4, 8, 16, 32\), not 5"),
    ("mx-quantize", dict(block_size=48), "block_size must be one of 16, 32, 64, not 48"),
    ("mx-quantize", dict(block_size=16, lanes=32), "lanes must be an integer in 1..16, not 32"),
    ("mx-quantize", dict(scheme="nvfp4", element="int8"), "element must be fp4_e2m1 with scheme nvfp4"),
    ("mx-quantize", dict(scheme="nvfp4", block_size=32), "block_size must be 16 with scheme nvfp4"),
    ("mx-quantize", dict(scheme="nvfp4", scale_mode="ceil"), "scale_mode applies to scheme mx"),
    ("mx-quantize", dict(scale_rounding="rup"), "scale_rounding applies to scheme nvfp4"),
    ("mx-quantize", dict(element="fp16"), "element must be one of fp8_e4m3"),
    ("mx-quantize", dict(src="fp16"), "src must be one of fp32, bf16, not 'fp16'"),
    ("mx-dequantize", dict(dst="fp16"), "dst must be one of fp32, bf16, not 'fp16'"),
    ("mx-dequantize", dict(scheme="nvfp4", element="fp8_e4m3"), "element must be fp4_e2m1 with scheme nvfp4"),
    ("mx-dequantize", dict(lanes=65), "lanes must be an integer in 1..64, not 65"),
    ("mx-quantize", dict(stages=4), r"stages must be an integer in 0..3 with scheme mx \(nvfp4: 0..5\), not 4"),
    ("mx-quantize", dict(scheme="nvfp4", stages=6), "stages must be an integer in 0..5, not 6"),
    ("mx-dequantize", dict(stages=4), "stages must be an integer in 0..3, not 4"),
])
def test_bad_parameters(kind, options, message):
    with pytest.raises(ValueError, match=message):
        build_unit(kind, **options)


def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "q.v"
    proc = subprocess.run([sys.executable, "-m", "fmtforge.rtl.cli", "generate", "mx-quantize", "--lanes", "3",
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.strip().count("\n") == 0 and "lanes must divide the block size 32" in proc.stderr


def test_buffers_are_block_ram_in_the_verilog():
    """The block buffer's two memories (the words, the per-block scales) keep the attributes that steer Yosys to
    block RAM without read-during-write emulation (rtl/flow/verilog.py puts them back after -noattr); the
    synthesis report's cells (docs/mx.md: SB_RAM40_4K, DP16KD) are where the mapping itself shows."""
    from fmtforge.rtl.flow.verilog import to_verilog
    unit, name = build_unit("mx-quantize")
    lines = to_verilog(unit, name).splitlines()
    mems = [k for k, line in enumerate(lines) if line.strip().startswith("reg [") and line.rstrip().endswith("];")
            and "buffer." in line]
    assert len(mems) == 2, [lines[k] for k in mems]
    for k in mems:
        assert lines[k - 1].strip() == '(* ram_style = "block", no_rw_check = 1 *)', lines[k - 1:k + 1]
    assert "[127:0] \\buffer.mem  [31:0];" in lines[mems[0]] + lines[mems[1]]  # 4 banks x 8 beats of 4 fp32
