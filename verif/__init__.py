"""fmtforge verification: support code (:mod:`.support`: runner, vectors, oracles, harnesses) and the tests
(:mod:`.tests`, grouped by floor: golden, rtl, flow, cli)."""
