"""Reading one quantized matrix product out of an ONNX model: a ``QLinearMatMul`` node, or a ``MatMulInteger``
node fed by a ``QuantizeLinear`` (or any int8/uint8 tensor) whose int32 output is dequantized
(``DequantizeLinear``) and requantized (``QuantizeLinear``).

:func:`read_qmac_node` returns the float parameters :func:`fmtforge.golden.quant.onnx_params.qmac_params` takes,
the types and the weights. The ``onnx`` package is imported only inside it (``pip install onnx``: it is in
fmtforge's test extra); everything else here is numpy. A model it cannot use raises :class:`OnnxModelError`, a
ValueError whose one line names the node and what is wrong (the CLI prints it as it is).
"""

import numpy as np

__all__ = ["OnnxModelError", "read_qmac_node"]

_TYPES = ("int8", "uint8")


class OnnxModelError(ValueError):
    """The model holds no quantized matrix product the qmac can take, or not one the options name."""


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
            raise OnnxModelError(f"--from-onnx: {what} of node {node.name!r} is missing")
        name = node.input[index]
        if name not in self.const:
            raise OnnxModelError(f"--from-onnx: {what} ({name!r}) of node {node.name!r} is not a constant (an initializer "
                           "or a Constant node); the qmac's parameters are fixed when it is generated")
        return self.const[name]

    def elem_type(self, name, what, node):
        """numpy dtype name of tensor ``name`` (a constant's, or the graph's declared type)."""
        if name in self.const:
            return self.const[name].dtype.name
        t = self.value_type.get(name)
        if t is None:
            raise OnnxModelError(f"--from-onnx: the type of {what} ({name!r}) of node {node.name!r} is not declared")
        return np.dtype(self.onnx.helper.tensor_dtype_to_np_dtype(t)).name

    def only(self, name, op, after):
        users = self.consumers.get(name, [])
        if len(users) != 1 or users[0].op_type != op:
            found = ", ".join(f"{u.op_type} {u.name!r}" for u in users) or "nothing"
            raise OnnxModelError(f"--from-onnx: the output of {after.op_type} node {after.name!r} must go to one "
                           f"{op} node (the qmac requantizes to 8 bits), not to {found}")
        return users[0]


def _check_type(what, dtype, node):
    if dtype not in _TYPES:
        raise OnnxModelError(f"--from-onnx: {what} of node {node.name!r} is {dtype}; the qmac takes int8 or uint8")
    return dtype


def _zp(graph, node, index, what, dtype):
    z = graph.constant(node, index, what, optional=True)
    if z is None:
        return 0
    if z.dtype.name != dtype:
        raise OnnxModelError(f"--from-onnx: {what} of node {node.name!r} is {z.dtype.name}, not {dtype} as its tensor")
    return z.astype(np.int64)


def _scale(graph, node, index, what):
    s = graph.constant(node, index, what)
    if s.dtype != np.float32:
        raise OnnxModelError(f"--from-onnx: {what} of node {node.name!r} is {s.dtype.name}; expected float32")
    return s.astype(np.float64)


def _qlinear_matmul(graph, n):
    a_type = _check_type("a", graph.elem_type(n.input[0], "a", n), n)
    b = graph.constant(n, 3, "b (the weights)")
    b_type = _check_type("b", b.dtype.name, n)
    y_type = _check_type("y_zero_point", graph.constant(n, 7, "y_zero_point").dtype.name, n)
    a_scale = _scale(graph, n, 1, "a_scale")
    if a_scale.size != 1:
        raise OnnxModelError(f"--from-onnx: a_scale of node {n.name!r} must be one value (per tensor), not shape "
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
        raise OnnxModelError(f"--from-onnx: x_scale of node {deq.name!r} is per axis {axis}; per channel must be along "
                       "the output columns (axis 1)")
    return dict(a_zero=_zp(graph, n, 2, "a_zero_point", a_type), b_zero=_zp(graph, n, 3, "b_zero_point", b_type),
                acc_scale=acc_scale, y_scale=_scale(graph, quant, 1, "y_scale"),
                y_zero=y_zero.astype(np.int64), acc_zero=0 if acc_zero is None else acc_zero.astype(np.int64),
                a_type=a_type, b_type=b_type, y_type=y_type, weights=b)


_READERS = {"QLinearMatMul": _qlinear_matmul, "MatMulInteger": _matmul_integer}


def read_qmac_node(path, node=None):
    """``(node name, op type, parameters)`` of the quantized matrix product in the ONNX model at ``path``:
    the float parameters :func:`qmac_params` takes, the types and the weights (``weights``, the constant
    right operand). Raises OnnxModelError naming what is wrong."""
    try:
        import onnx
    except ImportError:
        raise OnnxModelError("--from-onnx needs the onnx package: pip install onnx (it is in fmtforge's test extra)") from None
    try:
        model = onnx.load(path)
    except FileNotFoundError:
        raise OnnxModelError(f"--from-onnx {path!r}: no such file") from None
    except Exception as e:  # noqa: BLE001 -- onnx raises DecodeError, OSError, ...: all one line to the user
        raise OnnxModelError(f"--from-onnx {path!r} is not an ONNX model: {type(e).__name__}") from None
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
            raise OnnxModelError(f"--node {node!r}: no such node in {path} (QLinearMatMul / MatMulInteger nodes: {have})")
        if named[0].op_type not in _READERS:
            raise OnnxModelError(f"--node {node!r} is a {named[0].op_type} node; supported: QLinearMatMul, MatMulInteger "
                           "(-> DequantizeLinear -> QuantizeLinear)")
        chosen = named[0]
    elif len(candidates) == 1:
        chosen = candidates[0]
    elif not candidates:
        ops = sorted({n.op_type for n in graph.nodes})
        raise OnnxModelError(f"--from-onnx {path}: no QLinearMatMul or MatMulInteger node (the model has "
                       f"{', '.join(ops) or 'no nodes'})")
    else:
        raise OnnxModelError(f"--node: {path} has {len(candidates)} quantized matrix products "
                       f"({', '.join(repr(n.name) for n in candidates)}): name one")
    params = _READERS[chosen.op_type](graph, chosen)
    w = params["weights"]
    if w.ndim != 2:
        raise OnnxModelError(f"--from-onnx: the weights of node {chosen.name!r} have shape {w.shape}; the qmac takes a "
                       "matrix (K, N)")
    return chosen.name, chosen.op_type, params
