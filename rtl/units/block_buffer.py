"""A block buffer in block RAM: blocks of ``beats`` words written one word per cycle, read back block by block
in the order they were written, one word per cycle.

The words live in one ``amaranth.lib.memory.Memory`` with one write port and one synchronous read port, so
Yosys infers block RAM (SB_RAM40_4K on the iCE40, DP16KD on ECP5) instead of flip-flops; the memory is a ring
of ``banks`` blocks. A block is closed by its last write; it becomes readable when the owner says its side data
(a scale, computed from the whole block by a pipeline of its own) is ready (``done``, in the order the blocks
closed), and its bank is free again once its last word has been read.
"""

from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from fmtforge.golden.validate import check_int

__all__ = ["BlockBuffer", "banks_for"]


def banks_for(beats, wait):
    """Banks enough for one word per cycle both ways when a closed block waits ``wait`` cycles (from the edge
    that writes its last word to the first cycle it may be read): the writer fills the other banks meanwhile.
    A power of two (the bank pointers wrap)."""
    need = 2 + -(-max(wait - 1, 0) // beats)
    return 1 << (need - 1).bit_length()


class BlockBuffer(wiring.Component):
    """A ring of ``banks`` blocks of ``beats`` words of ``width`` bits in block RAM.

    Parameters
    ----------
    width : int -- bits per word
    beats : int, a power of two -- words per block
    banks : int, a power of two >= 2 -- blocks held (written, waiting or being read)
    side_width : int -- bits of side data per block (its scale), 0 for none: a second small memory, written
        with ``done`` and read with the block's every word

    Ports
    -----
    w_data : In(width) -- the word written when ``w_en``
    w_en : In(1) -- write ``w_data`` (the caller's accepted beat; only while ``w_ready``)
    w_ready : Out(1) -- a bank is free (or partly written)
    w_first, w_close : Out(1) -- the word at the write position is its block's first / last
    w_bank : Out(range(banks)) -- the bank being written
    done : In(1) -- the oldest closed block not yet marked ready is ready to be read
    s_data : In(side_width) -- that block's side data, stored with ``done``
    r_en : In(1) -- the reader's pipeline advances: issue a read if a ready block is held; ``r_data`` holds
        while ``r_en`` is low
    r_issue : Out(1) -- a word is read this cycle (``r_en`` and a ready block); its data is on ``r_data`` the
        cycle after
    r_bank : Out(range(banks)), r_last : Out(1) -- the bank read and whether the word read is its block's last
        (valid with ``r_issue``)
    r_data : Out(width)
    r_side : Out(side_width) -- the side data of the block read, beside ``r_data``
    """

    def __init__(self, *, width, beats, banks, side_width=0):
        self.width = check_int("width", width, 1, 4096)
        self.beats = check_int("beats", beats, 1, 4096)
        self.banks = check_int("banks", banks, 2, 64)
        self.side_width = check_int("side_width", side_width, 0, 1024)
        if beats & (beats - 1) or banks & (banks - 1):
            raise ValueError(f"beats and banks must be powers of two, not {beats} and {banks}")
        super().__init__({
            "w_data": In(width), "w_en": In(1), "w_ready": Out(1), "w_first": Out(1), "w_close": Out(1),
            "w_bank": Out(range(banks)), "done": In(1), "r_en": In(1), "r_issue": Out(1),
            "r_bank": Out(range(banks)), "r_last": Out(1), "r_data": Out(width),
            "s_data": In(side_width), "r_side": Out(side_width),
        })

    def elaborate(self, platform):
        m = Module()
        nb, NB = self.beats, self.banks
        # ram_style: Yosys would map a shallow buffer to ECP5 distributed RAM; no_rw_check: a bank is never read
        # and written in one cycle, so Yosys needs no read-during-write emulation (a write delayed, bypass registers)
        m.submodules.mem = mem = Memory(shape=self.width, depth=nb * NB, init=[],
                                        attrs={"ram_style": "block", "no_rw_check": 1})
        wp = mem.write_port()
        rp = mem.read_port(domain="sync")  # reads and writes never meet: a bank is read only once closed
        widx, ridx = Signal(range(nb), name="widx"), Signal(range(nb), name="ridx")
        wbank, rbank = Signal(range(NB), name="wbank"), Signal(range(NB), name="rbank")
        used = Signal(range(NB + 1), name="used")    # closed blocks whose last word is not yet read
        avail = Signal(range(NB + 1), name="avail")  # of those, the ones marked done
        m.d.comb += [
            self.w_ready.eq(used != NB), self.w_first.eq(widx == 0), self.w_close.eq(widx == nb - 1),
            self.w_bank.eq(wbank),
            wp.addr.eq(Cat(widx, wbank)), wp.data.eq(self.w_data), wp.en.eq(self.w_en),
            self.r_issue.eq(self.r_en & (avail != 0)), self.r_bank.eq(rbank), self.r_last.eq(ridx == nb - 1),
            rp.addr.eq(Cat(ridx, rbank)), rp.en.eq(self.r_en), self.r_data.eq(rp.data),
        ]
        close = self.w_en & self.w_close
        drain = self.r_issue & self.r_last
        with m.If(self.w_en):
            m.d.sync += widx.eq(widx + 1)
            with m.If(close):
                m.d.sync += [widx.eq(0), wbank.eq(wbank + 1)]
        with m.If(self.r_issue):
            m.d.sync += ridx.eq(ridx + 1)
            with m.If(drain):
                m.d.sync += [ridx.eq(0), rbank.eq(rbank + 1)]
        m.d.sync += [used.eq(used + close - drain), avail.eq(avail + self.done - drain)]
        if self.side_width:  # blocks are marked done in order: the next one's bank is rbank + avail
            m.submodules.side = side = Memory(shape=self.side_width, depth=NB, init=[],
                                              attrs={"ram_style": "block", "no_rw_check": 1})
            swp, srp = side.write_port(), side.read_port(domain="sync")
            m.d.comb += [swp.addr.eq((rbank + avail)[:len(rbank)]), swp.data.eq(self.s_data), swp.en.eq(self.done),
                         srp.addr.eq(rbank), srp.en.eq(self.r_en), self.r_side.eq(srp.data)]
        return m
