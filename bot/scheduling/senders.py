"""A small pool of sender threads: due work goes out concurrently, one item at a time per channel.

One slow or hanging item occupies one sender; the others keep taking work. Items are handed out
in the order `fetch` gives them, skipping those whose channel already has one in flight, so each
channel's items still go out in order.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

R = TypeVar("R")
DEFAULT_SENDERS = 4


def send_concurrently(*, fetch: Callable[[], list[tuple[int, str]]], send: Callable[[int], R],
                      senders: int, stop: threading.Event) -> list[R]:
    """Send everything `fetch` yields ((id, channel) pairs, asked again as work runs low).

    Each id is sent at most once per call. Once `stop` is set no new item starts; the ones in
    flight finish. Returns the results in completion order; re-raises the first exception of a
    send after all others finished.
    """
    size = max(1, senders)
    seen: set[int] = set()
    queue: list[tuple[int, str]] = []
    busy: set[str] = set()
    running: dict[Future[R], tuple[int, str]] = {}
    results: list[R] = []
    errors: list[BaseException] = []
    if stop.is_set():
        return results
    queue = fetch()
    seen.update(i for i, _ in queue)
    if not queue:  # the usual sweep: nothing due, no threads
        return results
    fetched = True  # nothing has been sent since: asking again would find the same
    # Leaving the pool waits for the sends in flight, also when fetch raises: they are recorded.
    with ThreadPoolExecutor(max_workers=size, thread_name_prefix="wgbot-sender") as pool:
        while True:
            startable = sum(1 for _, ch in queue if ch not in busy)
            if not stop.is_set() and startable < size and not fetched:  # running low: ask again
                fresh = [(i, ch) for i, ch in fetch() if i not in seen]
                seen.update(i for i, _ in fresh)
                queue.extend(fresh)
            while not stop.is_set() and len(running) < size:
                pick = next((k for k, (_, ch) in enumerate(queue) if ch not in busy), None)
                if pick is None:
                    break
                item = queue.pop(pick)
                busy.add(item[1])
                running[pool.submit(send, item[0])] = item
            if not running:
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            fetched = False
            for future in done:
                _, channel = running.pop(future)
                busy.discard(channel)
                error = future.exception()
                if error is not None:
                    errors.append(error)
                else:
                    results.append(future.result())
    if errors:
        raise errors[0]
    return results
