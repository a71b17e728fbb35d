"""Run many independent flows: in this process, in a local process pool, or on a Dask cluster.

The same choice as the sweeps make (``fmtforge sweep --jobs N | --scheduler tcp://host:port``), written here
because the flow must not import the verification floor. Results come back in the order of the items.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

__all__ = ["run_all"]


def _call(fn_args):
    fn, args = fn_args
    return fn(*args)


def run_all(fn, items, *, workers=1, scheduler=None, on_result=None):
    """``[fn(*item) for item in items]``, sharded: ``scheduler`` (a Dask scheduler address such as
    ``tcp://host:port``, or a ``distributed.Client``) runs one task per item on its workers; otherwise
    ``workers`` local processes do (``workers=1``: this process, no pickling). ``fn`` and the items must
    pickle for the other two. ``on_result(result)``, when given, is called here as each result comes back
    (progress reports)."""
    items = [tuple(item) for item in items]
    done = on_result or (lambda r: None)

    def each(results):
        out = []
        for r in results:
            done(r)
            out.append(r)
        return out

    if scheduler is not None:
        from distributed import Client
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            from distributed import as_completed
            futures = client.map(_call, [(fn, item) for item in items], pure=False)
            for f in as_completed(futures):
                done(f.result())
            return client.gather(futures)
        finally:
            if client is not scheduler:
                client.close()
    if workers < 1:
        raise ValueError(f"workers must be a positive integer, not {workers}")
    if workers == 1 or len(items) <= 1:
        return each(fn(*item) for item in items)
    # spawn: the parent may hold threads (a fork would copy their locks)
    with ProcessPoolExecutor(max_workers=min(workers, len(items)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        return each(pool.map(_call, [(fn, item) for item in items]))
