"""Where fits run: one at a time, in a background thread or in the caller's thread.

A notebook kernel does not handle messages from the browser while a cell is busy, so
a fit that must react to Stop, or be replaced when a slider moves, runs in a thread.
Each fit asks ``cancelled()`` between steps (SVI's callback returns False then).
Submitting a new request cancels the running fit and starts the newest request once
no other request has come for ``debounce`` seconds; intermediate requests are dropped.
The thread exits as soon as nothing is pending, so an idle widget holds no thread.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Generic, TypeVar

__all__ = ["FitRunner", "THREAD_PREFIX"]

R = TypeVar("R")
THREAD_PREFIX = "pplkit-fit"
_counter = iter(range(1, 1 << 62))


class FitRunner(Generic[R]):
    """Run ``fit(request, cancelled)`` for the newest request, cancelling older ones.

    Args:
        fit: does the work; must return soon after ``cancelled()`` turns True. Its
            exception is kept in :attr:`error` and re-raised by :meth:`wait`
            (and raised directly in blocking mode).
        blocking: run each request in the caller's thread instead of a background thread.
        debounce: seconds without a new request before a background fit starts.

    Example::

        runner = FitRunner(lambda steps, cancelled: print(steps), blocking=True)
        runner.submit(100)   # prints 100
    """

    def __init__(self, fit: Callable[[R, Callable[[], bool]], Any], *, blocking: bool = False,
                 debounce: float = 0.0) -> None:
        self._fit = fit
        self.blocking = blocking
        self.debounce = debounce
        self.error: BaseException | None = None
        self._cond = threading.Condition()
        self._generation = 0  # bumped by every submit and stop; a fit runs while it is current
        self._pending: tuple[R, int] | None = None
        self._due = 0.0
        self._thread: threading.Thread | None = None
        self._running = False
        self._parent: Any = None

    @property
    def busy(self) -> bool:
        """True while a fit runs or waits to start."""
        with self._cond:
            return self._running or self._pending is not None

    def submit(self, request: R, debounce: float | None = None) -> None:
        """Cancel the running fit (if any) and fit ``request`` next."""
        with self._cond:
            self._generation += 1
            generation = self._generation
            if not self.blocking:
                self._pending = (request, generation)
                self._due = time.monotonic() + (self.debounce if debounce is None else debounce)
                self._parent = _kernel_parent()
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name=f"{THREAD_PREFIX}-{next(_counter)}", daemon=True
                    )
                    self._thread.start()
                self._cond.notify_all()
                return
        self._run(request, generation)
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Cancel the running fit and drop any pending request."""
        with self._cond:
            self._generation += 1
            self._pending = None
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> None:
        """Block until no fit runs or waits; then re-raise the last fit's error, if any.

        Raises:
            TimeoutError: still busy after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                thread = self._thread
            if thread is None:
                break
            thread.join(None if deadline is None else max(deadline - time.monotonic(), 0.0))
            if thread.is_alive():
                raise TimeoutError(f"the fit is still running after {timeout} s")
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Stop and wait for the thread to end, without raising the last error."""
        self.stop()
        try:
            self.wait()
        except BaseException:  # the error stays in self.error; closing must not fail
            pass

    # -- the background thread ----------------------------------------------------------

    def _loop(self) -> None:
        _adopt_kernel_parent(self._parent)
        me = threading.current_thread()
        while True:
            with self._cond:
                while True:
                    if self._pending is None:
                        if self._thread is me:
                            self._thread = None
                        self._cond.notify_all()
                        return
                    delay = self._due - time.monotonic()
                    if delay <= 0:
                        break
                    self._cond.wait(delay)
                (request, generation), self._pending = self._pending, None
            self._run(request, generation)

    def _run(self, request: R, generation: int) -> None:
        with self._cond:
            self._running = True
            self.error = None
        try:
            self._fit(request, lambda: self._generation != generation)
        except BaseException as error:  # kept for wait(); the fit has already shown it in its widget
            with self._cond:
                self.error = error
        finally:
            with self._cond:
                self._running = False
                self._cond.notify_all()


def _kernel_parent() -> Any:
    """The message the kernel is answering now (a cell, or a button click), if in a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    get_parent = getattr(shell, "get_parent", None)
    return get_parent() if get_parent is not None else None


def _adopt_kernel_parent(parent: Any) -> None:
    # Without this, output from the thread lands in whichever cell runs at the time.
    # set_thread_parent (ipykernel >= 7) affects this thread only, unlike set_parent.
    if not parent:
        return
    from IPython import get_ipython

    set_thread_parent = getattr(get_ipython(), "set_thread_parent", None)
    if set_thread_parent is not None:
        set_thread_parent(parent)
