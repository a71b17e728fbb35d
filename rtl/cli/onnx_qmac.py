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

The integer parameters come from :func:`fmtforge.golden.quant.onnx_params.qmac_params`. The ``onnx`` package is
imported only here, only when ``--from-onnx`` is given (``pip install onnx``: it is in the test extra).
"""

import json
from pathlib import Path

import numpy as np

from .options import CliError

__all__ = ["add_onnx_arguments", "generate_from_onnx", "read_qmac_node"]

_TYPES = ("int8", "uint8")


def add_onnx_arguments(parser):
    parser.add_argument("--from-onnx", metavar="MODEL", help="take types, zero points and scales from an ONNX "
                        "model's QLinearMatMul (or MatMulInteger) node; writes FILE.json (and FILE.mem per "
                        "channel) beside the Verilog")
    parser.add_argument("--node", help="the node's name, when the model has several (with --from-onnx)")


class _Graph:
    """A model's constants (initializers and Constant nodes) and who produces / consumes each tensor."""

    def __init__(self, model, onnx):
        from onnx import numpy_helper
        g = model.graph
        self.nodes = list(g.node)
        self.const = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        for n in self.nodes:
            if n.op_type == "Constant":
                for a in n.attribute:
                    if a.name == "value":
                        self.const[n.output[0]] = numpy_helper.to_array(a.t)
        self.consumers = {}
        for n in self.nodes:
            for name in n.input:
                self.consumers.setdefault(name, []).append(n)
        self.value_type = {v.name: v.type.tensor_type.elem_type for v in list(g.input) + list(g.value_info)
                           + list(g.output)}
        self.onnx = onnx

    def constant(self, node, index, what, optional=False):
        """Input ``index`` of ``node`` as a constant array (None when absent and ``optional``)."""
        if index >= len(node.input) or not node.input[index]:
            if optional:
                return None
            raise CliError(f"--from-onnx: {what} of node {node.name!r} is missing")
        name = node.input[index]
        if name not in self.const:
            raise CliError(f"--from-onnx: {what} ({name!r}) of node {node.name!r} is not a constant (an initializer "
                           "or a Constant node); the qmac's parameters are fixed when it is generated")
        return self.const[name]

    def elem_type(self, name, what, node):
        """numpy dtype name of tensor ``name`` (a constant's, or the graph's declared type)."""
        if name in self.const:
            return self.const[name].dtype.name
        t = self.value_type.get(name)
        if t is None:
            raise CliError(f"--from-onnx: the type of {what} ({name!r}) of node {node.name!r} is not declared")
        return np.dtype(self.onnx.helper.tensor_dtype_to_np_dtype(t)).name

    def only(self, name, op, after):
        users = self.consumers.get(name, [])
        if len(users) != 1 or users[0].op_type != op:
            found = ", ".join(f"{u.op_type} {u.name!r}" for u in users) or "nothing"
            raise CliError(f"--from-onnx: the output of {after.op_type} node {after.name!r} must go to one "
                           f"{op} node (the qmac requantizes to 8 bits), not to {found}")
        return users[0]


def _check_type(what, dtype, node):
    if dtype not in _TYPES:
        raise CliError(f"--from-onnx: {what} of node {node.name!r} is {dtype}; the qmac takes int8 or uint8")
    return dtype


def _zp(graph, node, index, what, dtype):
    z = graph.constant(node, index, what, optional=True)
    if z is None:
        return 0
    if z.dtype.name != dtype:
        raise CliError(f"--from-onnx: {what} of node {node.name!r} is {z.dtype.name}, not {dtype} as its tensor")
    return z.astype(np.int64)


def _scale(graph, node, index, what):
    s = graph.constant(node, index, what)
    if s.dtype != np.float32:
        raise CliError(f"--from-onnx: {what} of node {node.name!r} is {s.dtype.name}; expected float32")
    return s.astype(np.float64)


def _qlinear_matmul(graph, n):
    a_type = _check_type("a", graph.elem_type(n.input[0], "a", n), n)
    b = graph.constant(n, 3, "b (the weights)")
    b_type = _check_type("b", b.dtype.name, n)
    y_type = _check_type("y_zero_point", graph.constant(n, 7, "y_zero_point").dtype.name, n)
    a_scale = _scale(graph, n, 1, "a_scale")
    if a_scale.size != 1:
        raise CliError(f"--from-onnx: a_scale of node {n.name!r} must be one value (per tensor), not shape "
                       f"{a_scale.shape}")
    return dict(a_zero=_zp(graph, n, 2, "a_zero_point", a_type), b_zero=_zp(graph, n, 5, "b_zero_point", b_type),
                acc_scale=a_scale.reshape(()) * _scale(graph, n, 4, "b_scale"),
                y_scale=_scale(graph, n, 6, "y_scale"), y_zero=_zp(graph, n, 7, "y_zero_point", y_type),
                a_type=a_type, b_type=b_type, y_type=y_type, weights=b)


def _matmul_integer(graph, n):
    a_type = _check_type("A", graph.elem_type(n.input[0], "A", n), n)
    b = graph.constant(n, 1, "B (the weights)")
    b_type = _check_type("B", b.dtype.name, n)
    deq = graph.only(n.output[0], "DequantizeLinear", n)
    quant = graph.only(deq.output[0], "QuantizeLinear", deq)
    y_zero = graph.constant(quant, 2, "y_zero_point")
    y_type = _check_type("y_zero_point", y_zero.dtype.name, quant)
    acc_zero = graph.constant(deq, 2, "x_zero_point", optional=True)
    axis = {a.name: a.i for a in deq.attribute}.get("axis", 1)
    acc_scale = _scale(graph, deq, 1, "x_scale")
    if acc_scale.ndim == 1 and acc_scale.size > 1 and axis not in (1, -1):
        raise CliError(f"--from-onnx: x_scale of node {deq.name!r} is per axis {axis}; per channel must be along "
                       "the output columns (axis 1)")
    return dict(a_zero=_zp(graph, n, 2, "a_zero_point", a_type), b_zero=_zp(graph, n, 3, "b_zero_point", b_type),
                acc_scale=acc_scale, y_scale=_scale(graph, quant, 1, "y_scale"),
                y_zero=y_zero.astype(np.int64), acc_zero=0 if acc_zero is None else acc_zero.astype(np.int64),
                a_type=a_type, b_type=b_type, y_type=y_type, weights=b)


_READERS = {"QLinearMatMul": _qlinear_matmul, "MatMulInteger": _matmul_integer}


def read_qmac_node(path, node=None):
    """``(node name, op type, parameters)`` of the quantized matrix product in the ONNX model at ``path``:
    the float parameters :func:`qmac_params` takes, the types and the weights (``weights``, the constant
    right operand). Raises CliError naming what is wrong."""
    try:
        import onnx
    except ImportError:
        raise CliError("--from-onnx needs the onnx package: pip install onnx (it is in fmtforge's test extra)") from None
    try:
        model = onnx.load(path)
    except FileNotFoundError:
        raise CliError(f"--from-onnx {path!r}: no such file") from None
    except Exception as e:  # noqa: BLE001 -- onnx raises DecodeError, OSError, ...: all one line to the user
        raise CliError(f"--from-onnx {path!r} is not an ONNX model: {type(e).__name__}") from None
    try:  # declares the types of intermediate tensors (a QuantizeLinear's output feeding MatMulInteger)
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 -- a model shape inference cannot follow is still read as it is
        pass
    graph = _Graph(model, onnx)
    candidates = [n for n in graph.nodes if n.op_type in _READERS]
    if node is not None:
        named = [n for n in graph.nodes if n.name == node]
        if not named:
            have = ", ".join(repr(n.name) for n in candidates) or "none"
            raise CliError(f"--node {node!r}: no such node in {path} (QLinearMatMul / MatMulInteger nodes: {have})")
        if named[0].op_type not in _READERS:
            raise CliError(f"--node {node!r} is a {named[0].op_type} node; supported: QLinearMatMul, MatMulInteger "
                           "(-> DequantizeLinear -> QuantizeLinear)")
        chosen = named[0]
    elif len(candidates) == 1:
        chosen = candidates[0]
    elif not candidates:
        ops = sorted({n.op_type for n in graph.nodes})
        raise CliError(f"--from-onnx {path}: no QLinearMatMul or MatMulInteger node (the model has "
                       f"{', '.join(ops) or 'no nodes'})")
    else:
        raise CliError(f"--node: {path} has {len(candidates)} quantized matrix products "
                       f"({', '.join(repr(n.name) for n in candidates)}): name one")
    params = _READERS[chosen.op_type](graph, chosen)
    w = params["weights"]
    if w.ndim != 2:
        raise CliError(f"--from-onnx: the weights of node {chosen.name!r} have shape {w.shape}; the qmac takes a "
                       "matrix (K, N)")
    return chosen.name, chosen.op_type, params


def _mem_lines(p, columns):
    col = lambda key: p[key] if isinstance(p[key], list) else [p[key]] * columns  # noqa: E731
    lines = []
    for zw, shift, m0, bias in zip(col("zw"), col("shift"), col("m0"), col("bias")):
        word = (zw & 0xff) << 69 | (shift & 0x3f) << 63 | m0 << 32 | (bias & 0xffffffff)
        lines.append(f"{word:020x}\n")
    return "".join(lines)


def generate_from_onnx(args, options, build_unit, to_verilog, write_output):
    """The ``--from-onnx`` branch of ``fmtforge generate qmac``: Verilog, FILE.json and (per channel) FILE.mem."""
    from fmtforge.golden.quant.onnx_params import QMAC_KEYS, qmac_params

    if args.output in (None, "-"):
        raise CliError("--output must be a file path with --from-onnx (FILE.json and FILE.mem go beside it)")
    name, op, f = read_qmac_node(args.from_onnx, args.node)
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
