"""Run many independent flows: in this process, in a local process pool, or on a Dask cluster.

The one sharding helper of fmtforge: ``fmtforge synth-all`` (:func:`run_all`: results in the order of the items)
and the sweeps, the regression and the proofs (:func:`run_shards`: results as they complete, with progress) choose
the same way: ``--jobs N`` local processes or ``--scheduler tcp://host:port`` (Dask).
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

__all__ = ["run_all", "run_shards"]


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


def run_shards(fn, tasks, *, jobs=None, scheduler=None, progress=None, total=None, count=lambda r: r["count"],
               on_result=None):
    """``fn(*args)`` for every ``args`` in ``tasks``, in a local process pool (``jobs`` processes) or on Dask
    (``scheduler``: an address or a ``distributed.Client``); returns the results in completion order.

    ``progress(done, total)`` is called as tasks finish, ``done`` summing ``count(result)``; ``on_result(result)``
    too, before it (e.g. to keep each result on disk as it comes: a campaign that can resume). KeyboardInterrupt
    cancels what has not started and re-raises with the finished results attached (``exc.results``).
    """
    results, done = [], 0
    if scheduler is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
        futures = [pool.submit(fn, *args) for args in tasks]
        completed, cancel = as_completed(futures), lambda: pool.shutdown(wait=False, cancel_futures=True)
    else:
        from distributed import Client, as_completed
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        futures = [client.submit(fn, *args, pure=True) for args in tasks]
        completed, cancel = as_completed(futures), lambda: client.cancel(futures)
    try:
        for f in completed:
            r = f.result()
            if on_result:
                on_result(r)
            results.append(r)
            done += count(r)
            if progress:
                progress(done, total)
    except KeyboardInterrupt as e:
        cancel()
        e.results = results
        raise
    finally:
        if scheduler is None:
            pool.shutdown(wait=True, cancel_futures=True)
        elif not isinstance(scheduler, Client):
            client.close()
    return results
