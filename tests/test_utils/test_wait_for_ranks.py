"""The tests that launch ranks wait on their progress: a rank still starting is
waited for, a rank that stops writing after start-up is reported with its
stack."""
import subprocess
import sys

import pytest
from muse_test_utils import wait_for_ranks

RANK = """
import faulthandler, signal, sys, time
faulthandler.register(signal.SIGUSR1)
time.sleep({start})
print('ready', flush=True)
time.sleep({after})
print('done', flush=True)
"""


def launch(tmp_path, *timings):
    procs, logs = [], []
    for rank, (start, after) in enumerate(timings):
        log = tmp_path / f'rank{rank}.log'
        procs.append(
            subprocess.Popen(
                [sys.executable, '-c',
                 RANK.format(start=start, after=after)],
                stdout=log.open('w'),
                stderr=subprocess.STDOUT))
        logs.append(log)
    return procs, logs


def test_a_slow_start_is_not_a_hang(tmp_path):
    # rank 1 starts well past the stall bound, then finishes
    procs, logs = launch(tmp_path, (0, 0), (3, 0))
    wait_for_ranks(procs, logs, 'ready', stall=1, limit=60, poll=0.1)
    assert all(p.returncode == 0 for p in procs)
    assert 'done' in logs[1].read_text()


def test_a_rank_that_stops_progressing_is_killed_with_its_stack(tmp_path):
    procs, logs = launch(tmp_path, (0, 0), (0, 600))
    with pytest.raises(AssertionError) as info:
        wait_for_ranks(procs, logs, 'ready', stall=1, limit=60, poll=0.1)
    message = str(info.value)
    assert message.startswith('no progress for 1 s')
    # the stuck rank's stack, dumped by faulthandler before the kill
    assert 'rank 1: exit -9' in message and 'File "<string>"' in message
    assert all(p.poll() is not None for p in procs)


def test_the_whole_wait_is_bounded(tmp_path):
    procs, logs = launch(tmp_path, (600, 0))
    with pytest.raises(AssertionError, match='not done after 1 s'):
        wait_for_ranks(procs, logs, 'ready', stall=1, limit=1, poll=0.1)
