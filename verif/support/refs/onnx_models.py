"""Small quantized ONNX models built with ``onnx.helper`` for the ``--from-onnx`` tests, and their reference
outputs from ``onnx.reference`` (imported here only: a test without onnx skips before it gets here)."""

import numpy as np

_NP = {"int8": np.int8, "uint8": np.uint8, "int32": np.int32, "float32": np.float32}


def _tensor_type(dtype):
    from onnx import helper
    return helper.np_dtype_to_tensor_dtype(np.dtype(_NP[dtype]))


def _const(name, value, dtype):
    from onnx import numpy_helper
    return numpy_helper.from_array(np.asarray(value, dtype=_NP[dtype]), name)


def _model(nodes, inputs, outputs, initializers, opset=21):
    from onnx import checker, helper
    graph = helper.make_graph(nodes, "fmtforge_test", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    checker.check_model(model)
    return model


def qlinear_matmul(rows, weights, *, a_type, a_scale, a_zero, b_scale, b_zero, y_scale, y_zero, y_type="int8",
                   name="mm", scale_input=False):
    """``y = QLinearMatMul(a, ...)`` with constant weights ``(K, N)`` of ``weights``' dtype; ``b_scale`` and
    ``b_zero`` scalars or one per column. ``scale_input``: ``a_scale`` is a graph input (not a constant)."""
    from onnx import helper
    K, N = weights.shape
    w_type = weights.dtype.name
    inits = [_const("w", weights, w_type), _const("a_zero", a_zero, a_type), _const("b_scale", b_scale, "float32"),
             _const("b_zero", b_zero, w_type), _const("y_scale", y_scale, "float32"),
             _const("y_zero", y_zero, y_type)]
    inputs = [helper.make_tensor_value_info("a", _tensor_type(a_type), [rows, K])]
    if scale_input:
        inputs.append(helper.make_tensor_value_info("a_scale", _tensor_type("float32"), []))
    else:
        inits.append(_const("a_scale", a_scale, "float32"))
    node = helper.make_node("QLinearMatMul", ["a", "a_scale", "a_zero", "w", "b_scale", "b_zero", "y_scale",
                                              "y_zero"], ["y"], name=name)
    return _model([node], inputs, [helper.make_tensor_value_info("y", _tensor_type(y_type), [rows, N])], inits)


def quantize_matmul_integer(rows, weights, *, a_type, a_scale, a_zero, b_zero, acc_scale, acc_zero, y_scale,
                            y_zero, y_type="int8", name="mmi"):
    """Float ``x`` -> QuantizeLinear(a_scale, a_zero) -> MatMulInteger(w, a_zero, b_zero) -> DequantizeLinear
    (acc_scale, acc_zero: scalars or one per column, int32 zero point) -> QuantizeLinear(y_scale, y_zero)."""
    from onnx import helper
    K, N = weights.shape
    w_type = weights.dtype.name
    inits = [_const("w", weights, w_type), _const("a_scale", a_scale, "float32"), _const("a_zero", a_zero, a_type),
             _const("b_zero", b_zero, w_type), _const("acc_scale", acc_scale, "float32"),
             _const("acc_zero", acc_zero, "int32"), _const("y_scale", y_scale, "float32"),
             _const("y_zero", y_zero, y_type)]
    nodes = [helper.make_node("QuantizeLinear", ["x", "a_scale", "a_zero"], ["a"], name="quant_a"),
             helper.make_node("MatMulInteger", ["a", "w", "a_zero", "b_zero"], ["acc"], name=name),
             helper.make_node("DequantizeLinear", ["acc", "acc_scale", "acc_zero"], ["yf"], name="deq", axis=1),
             helper.make_node("QuantizeLinear", ["yf", "y_scale", "y_zero"], ["y"], name="quant_y")]
    inputs = [helper.make_tensor_value_info("x", _tensor_type("float32"), [rows, K])]
    return _model(nodes, inputs, [helper.make_tensor_value_info("y", _tensor_type(y_type), [rows, N])], inits)


def other_op(name="relu"):
    """A model with no quantized matrix product (one Relu)."""
    from onnx import helper
    t = _tensor_type("float32")
    return _model([helper.make_node("Relu", ["x"], ["y"], name=name)], [helper.make_tensor_value_info("x", t, [4])],
                  [helper.make_tensor_value_info("y", t, [4])], [])


def run_reference(model, **feeds):
    """The model's output under ``onnx.reference.ReferenceEvaluator``."""
    from onnx.reference import ReferenceEvaluator
    return ReferenceEvaluator(model).run(None, feeds)[0]
