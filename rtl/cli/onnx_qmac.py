"""``fmtforge generate qmac --from-onnx MODEL.onnx [--node NAME] -o FILE.v``: a qmac configured by an ONNX model.

Reads one quantized matrix product of the model -- a ``QLinearMatMul`` node, or a ``MatMulInteger`` node fed
by a ``QuantizeLinear`` (or any int8/uint8 tensor), whose int32 output is dequantized (``DequantizeLinear``)
and requantized (``QuantizeLinear``) -- and writes, besides the Verilog:

- ``FILE.json``: ``za``, ``zw``, ``z3``, ``qmin``, ``qmax``, ``m0``, ``shift``, ``bias`` (lists, one per output
  column, when per channel), with ``per_channel``, the node, the unit's options and the module name;
- ``FILE.mem`` (per channel only): a ``$readmemh`` file, one line per output column, the 77-bit word
  ``{zw[7:0], shift[5:0], m0[30:0], bias[31:0]}``: its low 69 bits are the payload fields ``bias``, ``m0``,
  ``shift`` exactly as the qmac's per-channel payload holds them (from bit 16N+1 up), the top 8 the ``zw``
  port's value for that column.

The model is read by :func:`fmtforge.golden.quant.onnx_reader.read_qmac_node`, the integer parameters come from
:func:`fmtforge.golden.quant.onnx_params.qmac_params`; this module only parses, calls and writes.
"""

import json
from pathlib import Path

from ..flow.verilog import to_verilog
from ..units.registry import build_unit
from .options import CliError
from .output import write_output

__all__ = ["add_onnx_arguments", "generate_from_onnx"]


def add_onnx_arguments(parser):
    parser.add_argument("--from-onnx", metavar="MODEL", help="take types, zero points and scales from an ONNX "
                        "model's QLinearMatMul (or MatMulInteger) node; writes FILE.json (and FILE.mem per "
                        "channel) beside the Verilog")
    parser.add_argument("--node", help="the node's name, when the model has several (with --from-onnx)")


def _mem_lines(p, columns):
    col = lambda key: p[key] if isinstance(p[key], list) else [p[key]] * columns  # noqa: E731
    lines = []
    for zw, shift, m0, bias in zip(col("zw"), col("shift"), col("m0"), col("bias")):
        word = (zw & 0xff) << 69 | (shift & 0x3f) << 63 | m0 << 32 | (bias & 0xffffffff)
        lines.append(f"{word:020x}\n")
    return "".join(lines)


def generate_from_onnx(args, options):
    """The ``--from-onnx`` branch of ``fmtforge generate qmac``: Verilog, FILE.json and (per channel) FILE.mem."""
    from fmtforge.golden.quant.onnx_params import QMAC_KEYS, qmac_params
    from fmtforge.golden.quant.onnx_reader import OnnxModelError, read_qmac_node

    if args.output in (None, "-"):
        raise CliError("--output must be a file path with --from-onnx (FILE.json and FILE.mem go beside it)")
    try:
        name, op, f = read_qmac_node(args.from_onnx, args.node)
    except OnnxModelError as e:
        raise CliError(str(e)) from None
    columns = int(f["weights"].shape[1])
    kw = {k: f[k] for k in ("a_zero", "b_zero", "acc_scale", "y_scale", "y_zero", "acc_zero") if k in f}
    try:
        p = qmac_params(**kw, a_type=f["a_type"], b_type=f["b_type"], y_type=f["y_type"], columns=columns)
    except ValueError as e:
        raise CliError(f"--from-onnx: node {name!r}: {e}") from None
    for key, model_value in (("a_type", f["a_type"]), ("w_type", f["b_type"]), ("out_type", f["y_type"])):
        if options[key] not in ("int8", model_value):  # int8 is the default: a different explicit type is an error
            raise CliError(f"--{key.replace('_', '-')} {options[key]} contradicts the model ({model_value})")
        options[key] = model_value
    options["per_channel"] = bool(options["per_channel"] or p["per_channel"])
    try:
        component, default_name = build_unit("qmac", **options)
    except (ValueError, TypeError) as e:
        raise CliError(str(e)) from None
    module = args.name or default_name
    out = Path(args.output)
    report = {"model": str(args.from_onnx), "node": name, "op": op, "columns": columns, "module": module,
              "options": options, **{k: p[k] for k in ("per_channel",) + QMAC_KEYS}}
    if options["per_channel"]:
        report["readmemh"] = out.with_suffix(".mem").name
    write_output(to_verilog(component, module), out, "--output")
    write_output(json.dumps(report, indent=1) + "\n", out.with_suffix(".json"), "--output")
    if options["per_channel"]:
        write_output(_mem_lines(p, columns), out.with_suffix(".mem"), "--output")
