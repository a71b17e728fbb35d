"""Named sets of formats the tests share (one definition each, never copied into a test module)."""

__all__ = ["FIXED_AND_P3109", "SMALL_FORMATS"]

#: The catalog entries of the small-formats wave (issue 16) that take the fast plans of other families (key table,
#: binade): the P3109 K8 formats, MXINT8 and the one-bit integers.
FIXED_AND_P3109 = ("p3109_k8p1", "p3109_k8p3", "p3109_k8p4", "p3109_k8p3_unsigned", "p3109_k8p4_unsigned", "mxint8",
                   "int1", "uint1")

#: Every format of that wave as a converter source or destination: catalog entries and parametric P3109 shapes
#: (6, 5, 4, 3 and 16 bits; P = 1; the unsigned finite domain). The signed finite P3109 ones are the fnuz
#: minifloats, already in the main matrix.
SMALL_FORMATS = ("float8_e3m4", "float8_e4m3", "float8_e4m3b11fnuz", "int2", "uint2", "int1", "uint1", "mxint8",
                 "p3109_k8p1", "p3109_k8p3", "p3109_k8p4", "p3109_k8p3_unsigned", "p3109_k8p4_unsigned",
                 "p3109_k8p4_unsigned_finite", "p3109_k6p3", "p3109_k5p2_unsigned", "p3109_k4p2_unsigned_finite",
                 "p3109_k3p1", "p3109_k16p11")
