"""Requests that arrive at once are served like Lambda serves them: never a 500 from a race."""

from __future__ import annotations

import threading
import urllib.request

from tests.e2e.conftest import RunningStack


def test_concurrent_api_requests_all_succeed(local_stack: RunningStack) -> None:
    paths = ["/api/tickets", "/api/tickets/counts", "/api/me", "/api/tickets?status=waiting",
             "/api/tickets/TKT-0000000"] * 8
    statuses: list[int] = []
    barrier = threading.Barrier(len(paths))

    def call(path: str) -> None:
        request = urllib.request.Request(f"{local_stack.base_url}{path}",
                                         headers={"Authorization": f"Bearer {local_stack.token}"})
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=call, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == len(paths)
    assert sorted(set(statuses)) == [200, 404], statuses  # the unknown ticket is a 404, nothing is a 500
