"""Running a batch of file jobs (:mod:`emseg.workflows.batch`) one after the other, or as
Dask tasks: on a local cluster of worker processes, or on the workers of an existing scheduler
(a lab server, an HPC allocation through dask-jobqueue, Kubernetes).

Dask does the scheduling, retries and worker management; EMSeg only submits one task per
file. A model passed to a task travels as its folder and is loaded once per worker
(:func:`emseg.models.saved.shared_predictor`), so the workers must see the model and the
files at the same paths (a shared file system).
"""

import os
from contextlib import contextmanager

__all__ = ["dask_client", "run_jobs", "worker_count"]


def worker_count():
    """The CPU cores this process may use (a local cluster's default number of workers)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # macOS, Windows
        return os.cpu_count() or 1


@contextmanager
def dask_client(address=None, *, workers=None, memory_limit="auto"):
    """A ``distributed.Client`` for a batch, closed (with its cluster) on leaving.

    Parameters
    ----------
    address : str, optional
        A running scheduler (``tcp://host:8786``); None or ``"local"`` starts a
        ``LocalCluster`` of worker processes, one thread each (TensorFlow limited to one
        thread per worker too, so the workers do not fight over the cores).
    workers : int, optional
        The local cluster's workers (default: one per core).
    memory_limit : str or int
        Each local worker's memory limit (Dask's ``"auto"``: the machine's memory shared
        equally); a worker past it is restarted and its task retried elsewhere.
    """
    from distributed import Client, LocalCluster

    if address is not None and not isinstance(address, str):
        raise TypeError(f"address must be a scheduler address or None, got {address!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    cluster = None
    if address in (None, "local"):
        threads = {name: "1" for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                                           "OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}
        import logging

        # the workers' own log (heartbeats lost while the cluster closes, with tracebacks) is
        # not the user's business: failed files come back as outcomes
        cluster = LocalCluster(n_workers=workers or worker_count(), threads_per_worker=1,
                               processes=True, memory_limit=memory_limit,
                               dashboard_address=None, env=threads,
                               silence_logs=logging.CRITICAL)
        client = Client(cluster)
    else:
        try:
            client = Client(address)    # gives up after distributed.comm.timeouts.connect
        except (OSError, TimeoutError) as exc:
            raise OSError(f"no Dask scheduler answers at {address} ({exc})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_jobs(job, calls, *, client=None, on_done=None, here=()):
    """Run ``job(*args, **kwargs)`` for every ``(args, kwargs)`` of ``calls``.

    Parameters
    ----------
    job : callable returning a :class:`~emseg.workflows.batch.FileOutcome`
        A module-level function (Dask sends it to the workers by name).
    calls : list of (tuple, dict)
    client : distributed.Client, optional
        Run the calls as Dask tasks there; None runs them here, in order.
    on_done : callable(index, outcome), optional
        Called as each call finishes (in the order they finish with a client).
    here : collection of int, optional
        With a client, the calls to run in this process instead, given ``client=client``
        (a large image whose chunks are the Dask tasks), while the others run on the workers.

    Returns
    -------
    list of FileOutcome
        In the order of ``calls``. A task whose worker died too often (Dask retries a task
        whose worker is lost) comes back as an outcome with that error.
    """
    calls = list(calls)
    outcomes = [None] * len(calls)

    def done(i, outcome):
        outcomes[i] = outcome
        if on_done is not None:
            on_done(i, outcome)

    if client is None:
        for i, (args, kwargs) in enumerate(calls):
            done(i, job(*args, **kwargs))
        return outcomes
    import signal
    import threading

    from distributed import wait
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    from .batch import FileOutcome

    futures = {client.submit(job, *args, pure=False, **kwargs): i
               for i, (args, kwargs) in enumerate(calls) if i not in here}
    stop, previous = [], None
    try:
        for i in sorted(here):
            args, kwargs = calls[i]
            done(i, job(*args, client=client, **kwargs))
        if threading.current_thread() is threading.main_thread():
            # Ctrl-C only raises a flag, checked here twice a second: a KeyboardInterrupt
            # raised inside Dask's client machinery can be lost
            previous = signal.signal(signal.SIGINT, lambda *_: stop.append(True))
        pending = set(futures)
        while pending:
            if stop:
                raise KeyboardInterrupt
            try:
                finished, pending = wait(pending, timeout=0.5, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            for future in sorted(finished, key=futures.get):
                i = futures[future]
                try:
                    outcome = future.result()
                except (KilledWorker, FutureCancelledError) as exc:
                    path = calls[i][0][0] if calls[i][0] else None
                    outcome = FileOutcome(path, error=f"{path}: its Dask task failed "
                                          f"({exc.__class__.__name__}: the workers that ran it "
                                          "died; out of memory?)")
                done(i, outcome)
    except BaseException:       # Ctrl-C, or a bug in a job: stop the rest
        client.cancel(list(futures))
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return outcomes
