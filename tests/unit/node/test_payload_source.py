"""The leader's mempool learns of commits before it is asked for the next proposal."""

from __future__ import annotations

import asyncio
import threading

from libra.node.validator import MempoolPayloadSource


class _Driver:
    """Stands in for ConsensusDriver: a loop thread, commits waiting to be published, a mempool."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.order: list[str] = []
        self.unpublished = ["block 7"]

    def publish_commits(self) -> None:
        for block in self.unpublished:
            self.loop.call_soon_threadsafe(self.order.append, f"commit {block}")
        self.unpublished = []

    async def take_from_mempool(self, max_items: int, exclude: set[bytes], wait_secs: float) -> tuple[bytes, ...]:
        self.order.append("take")
        return (b"txn",)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


def test_commits_reach_the_loop_before_the_mempool_is_asked():
    driver = _Driver()
    try:
        source = MempoolPayloadSource(driver, max_items=10, idle_secs=0.0)  # type: ignore[arg-type]
        assert source.pull(10, [(b"pending",)]) == (b"txn",)
        assert driver.order == ["commit block 7", "take"]
    finally:
        driver.close()


class _SizeRecordingDriver(_Driver):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[int] = []

    async def take_from_mempool(self, max_items: int, exclude: set[bytes], wait_secs: float) -> tuple[bytes, ...]:
        self.asked.append(max_items)
        return ()


def test_the_leader_asks_the_mempool_for_no_more_than_the_pace_allows():
    from libra.node.block_pace import BlockPace

    driver = _SizeRecordingDriver()
    try:
        pace = BlockPace(0.3, floor=20, ceiling=1000, initial_secs_per_txn=0.001, weight=1.0)
        source = MempoolPayloadSource(driver, max_items=1000, idle_secs=0.0, pace=pace)  # type: ignore[arg-type]
        source.pull(1000, [])
        pace.executed(100, 0.3)  # 3 ms per transaction: 100 fit in 0.3 s
        source.pull(1000, [])
        source.pull(50, [])  # the core's own limit still applies
        assert driver.asked == [300, 100, 50]
    finally:
        driver.close()
