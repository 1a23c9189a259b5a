"""The order in which training clips are drawn: a pure function of (seed, sample number).

Sample ``k`` of a run (counted over all ranks) is video ``perm_epoch[k % n]`` with per-sample seed
``derive_seed(seed, "sample", k)``; rank ``r`` of ``w`` takes the samples with ``k % w == r``. A resumed run
starts at ``k = clips_seen`` and so continues with exactly the batches an uninterrupted run would see,
independently of DataLoader workers.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from vidgan.core.seed import derive_seed


class ResumableBatchSampler:
    def __init__(self, n: int, batch_size: int, seed: int, start: int = 0, rank: int = 0, world: int = 1):
        if n <= 0:
            raise ValueError("the dataset is empty: no usable videos (check data.source and clip length)")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start, self.rank, self.world = start, rank, world
        self._perm_epoch, self._perm = -1, None

    def _index(self, k: int) -> int:
        epoch = k // self.n
        if epoch != self._perm_epoch:
            g = torch.Generator().manual_seed(derive_seed(self.seed, "epoch", epoch))
            self._perm, self._perm_epoch = torch.randperm(self.n, generator=g).tolist(), epoch
        return self._perm[k % self.n]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        k = self.start
        while True:
            keys = []
            for _ in range(self.batch_size):
                kk = k + self.rank
                keys.append((self._index(kk), derive_seed(self.seed, "sample", kk)))
                k += self.world
            yield keys
