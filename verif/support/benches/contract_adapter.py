"""Stand-in for the unit contract (issue 23 item 1) until the registry declares it: each stream unit's golden
model with the contract's signature ``model(options, *inputs)`` (resolved options). Deleted when
``UNITS[name].model`` lands; :func:`compute` already prefers the registry's model when a unit declares one.
"""

import numpy as np

from fmtforge import golden

__all__ = ["compute", "resolve"]


def resolve(name, options):
    """The unit's options validated, the rest at their registry defaults."""
    from fmtforge.rtl.units.registry import UNITS
    return UNITS[name].resolve(options)


def _convert(o, bits, rand=None):
    kw = dict(rand=rand, rand_bits=o["rand_bits"]) if o["rounding"] == "stochastic" else {}
    return golden.convert_flags(bits, o["src"], o["dst"], o["rounding"], o["saturate"], ftz=o["ftz"], daz=o["daz"],
                                **kw)


def _w4(o, codes, scales, zeros=None):
    from fmtforge.golden.block.weights import dequantize_bits
    scales = np.asarray(scales)
    return dequantize_bits(np.asarray(codes), scales[:, None], group_size=o["group"], codes_type=o["codes"],
                           zero=o["zero"], zero_points=None if zeros is None else np.asarray(zeros)[:, None],
                           scale_format=o["scale"], out_format=o["out"], saturate=o["saturate"])


def _bfp(o, bits):
    from fmtforge.golden.block.bfp import MSFP, msfp_encode_bits
    scheme = MSFP(man_bits=o["man_bits"], block_size=o["block"], rounding=o["rounding"])
    codes, scales = msfp_encode_bits(scheme, np.asarray(bits).reshape(-1), o["src"])
    return np.asarray(codes).reshape(-1, o["block"]), np.asarray(scales).reshape(-1)


def _mx_quantize(o, bits, tensor_scale=None):
    from fmtforge.golden import block
    nv = o["scheme"] == "nvfp4"
    bs = o["block_size"] or (16 if nv else 32)
    values = golden.lookup(o["src"]).decode(np.asarray(bits)).reshape(-1, bs)
    if nv:
        t = block.NVFP4().quantize(values, tensor_scale=tensor_scale, scale_rounding=o["scale_rounding"] or "rne")
    else:
        t = block.MX(element=o["element"] or "fp8_e4m3", block_size=bs).quantize(values,
                                                                                 scale_mode=o["scale_mode"] or "floor")
    return np.asarray(t.codes).reshape(-1, bs), np.asarray(t.scales).reshape(-1)


def _mx_dequantize(o, codes, scales, tensor_scale=None):
    from fmtforge.golden import block
    codes, scales = np.asarray(codes, dtype=np.uint8), np.asarray(scales, dtype=np.uint8)
    n, L = codes.shape
    if o["scheme"] == "nvfp4":  # NVFP4 blocks are 16 codes: pad each beat to whole blocks
        reps = -(-L // 16)
        c = np.zeros((n, 16 * reps), np.uint8)
        c[:, :L] = codes
        t = block.NVFP4Tensor(block.NVFP4(), c.reshape(-1), np.repeat(scales, reps), tensor_scale=tensor_scale)
        return block.dequantize_to(t, o["dst"]).reshape(n, 16 * reps)[:, :L]
    t = block.BlockTensor(block.MX(element=o["element"] or "fp8_e4m3", block_size=L), codes.reshape(-1), scales)
    return block.dequantize_to(t, o["dst"]).reshape(n, L)


def _qmac(o, jobs):
    """Results (jobs,) of the qmac's dot products (:class:`fmtforge.verif.support.vectors.qmac.Job`): the
    batched form of the contract's per-dot-product model (golden.quant.qmatmul)."""
    from fmtforge.verif.support.vectors.qmac import model
    c = dict(o, roundings=[o["rounding"]])
    types = [(o["a_type"], o["w_type"], o["out_type"])]
    # model() takes the diagonal of a matrix product per group of jobs: chunks keep it linear in the jobs
    return np.concatenate([model(jobs[k:k + 256], types, c)[0][:, 0] for k in range(0, len(jobs), 256)]
                          or [np.zeros(0, np.int64)])


MODELS = {"convert": _convert, "w4-dequantize": _w4, "bfp-encode": _bfp, "mx-quantize": _mx_quantize,
          "mx-dequantize": _mx_dequantize, "qmac": _qmac}


def compute(name, options, *inputs, **kw):
    """Golden outputs of unit ``name`` with resolved ``options`` (the registry's model when it declares one,
    except the qmac, whose model here takes whole lists of dot products)."""
    from fmtforge.rtl.units.registry import UNITS
    model = getattr(UNITS[name], "model", None)
    if model is not None and name != "qmac":
        return model(options, *inputs, **kw)
    return MODELS[name](options, *inputs, **kw)
