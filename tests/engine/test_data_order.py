from itertools import islice

from vidgan.engine.data_order import ResumableBatchSampler


def _take(sampler, n):
    return list(islice(iter(sampler), n))


def test_resume_continues_the_same_sequence():
    full = _take(ResumableBatchSampler(5, 2, seed=3), 6)
    tail = _take(ResumableBatchSampler(5, 2, seed=3, start=4), 4)
    assert full[2:] == tail


def test_epochs_are_permutations():
    keys = [k for b in _take(ResumableBatchSampler(7, 7, seed=0), 2) for k in b]
    assert sorted(i for i, _ in keys[:7]) == list(range(7))
    assert sorted(i for i, _ in keys[7:]) == list(range(7))
    assert len({s for _, s in keys}) == 14  # every sample has its own seed


def test_ranks_partition_the_global_sequence():
    single = [k for b in _take(ResumableBatchSampler(9, 4, seed=1), 3) for k in b]
    r0 = _take(ResumableBatchSampler(9, 2, seed=1, rank=0, world=2), 3)
    r1 = _take(ResumableBatchSampler(9, 2, seed=1, rank=1, world=2), 3)
    merged = [k for b0, b1 in zip(r0, r1) for pair in zip(b0, b1) for k in pair]
    assert merged == single
