"""Official TecoGAN / FRVSR TensorFlow checkpoint (thunil/TecoGAN ``model.zip``) -> ``compat="tf"`` FRNet.

Variable names follow the official graph: FNet under ``fnet/autoencode_unit`` and SRNet under
``generator/generator_unit``; each ``conv2`` / ``conv2_tran`` scope holds slim's ``Conv`` /
``Conv2d_transpose`` with ``weights`` (TF kernels: conv ``(kh, kw, in, out)``, transposed conv
``(kh, kw, out, in)``) and ``biases``. Both become PyTorch layouts with the same axis permutation
``(3, 2, 0, 1)``. Only the generator (FNet + SRNet) is mapped: it is all that inference and fine-tuning
from the released model need; the discriminator variables, if present, are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

__all__ = ["tf_generator_names", "tf_generator_state", "tf_num_blocks"]

_FNET = "fnet/autoencode_unit"
_GEN = "generator/generator_unit"


def tf_num_blocks(names: list[str] | set[str]) -> int:
    """Residual blocks in a TF checkpoint (``generator_unit/resblock_<i>``)."""
    ids = {int(m.group(1)) for n in names if (m := re.search(r"generator_unit/resblock_(\d+)/", n))}
    if not ids:
        raise KeyError("not an official TecoGAN/FRVSR checkpoint: no generator/generator_unit/resblock_* variables")
    if ids != set(range(1, max(ids) + 1)):
        raise KeyError(f"residual blocks are not numbered 1..N: {sorted(ids)}")
    return max(ids)


def tf_generator_names(num_blocks: int) -> dict[str, str]:
    """vidgan ``compat="tf"`` FRNet layer prefix -> official TF layer scope (without ``/weights``)."""
    names = {}
    for i in (1, 2, 3):
        for j, idx in ((1, 0), (2, 2)):
            names[f"fnet.encoder{i}.{idx}"] = f"{_FNET}/encoder_{i}/conv_{j}/Conv"
            names[f"fnet.decoder{i}.{idx}"] = f"{_FNET}/decoder_{i}/conv_{j}/Conv"
    names["fnet.flow.0"] = f"{_FNET}/output_stage/conv1/Conv"
    names["fnet.flow.2"] = f"{_FNET}/output_stage/conv2/Conv"
    names["srnet.conv_in.0"] = f"{_GEN}/input_stage/conv/Conv"
    for b in range(num_blocks):
        names[f"srnet.resblocks.{b}.conv.0"] = f"{_GEN}/resblock_{b + 1}/conv_1/Conv"
        names[f"srnet.resblocks.{b}.conv.2"] = f"{_GEN}/resblock_{b + 1}/conv_2/Conv"
    names["srnet.conv_up.0"] = f"{_GEN}/conv_tran2highres/conv_tran1/Conv2d_transpose"
    names["srnet.conv_up.2"] = f"{_GEN}/conv_tran2highres/conv_tran2/Conv2d_transpose"
    names["srnet.conv_out"] = f"{_GEN}/output_stage/conv/Conv"
    return names


def tf_generator_state(variables: Mapping[str, np.ndarray], num_blocks: int) -> dict[str, Tensor]:
    """TF variables (name -> array) -> FRNet state-dict entries (weights and biases; buffers not included).

    Raises ``KeyError`` listing every missing variable.
    """
    state, missing = {}, []
    for ours, theirs in tf_generator_names(num_blocks).items():
        for suffix, kind in (("weights", "weight"), ("biases", "bias")):
            name = f"{theirs}/{suffix}"
            if name not in variables:
                missing.append(name)
                continue
            a = np.asarray(variables[name], dtype=np.float32)
            state[f"{ours}.{kind}"] = torch.from_numpy(
                np.ascontiguousarray(a.transpose(3, 2, 0, 1) if a.ndim == 4 else a)
            )
    if missing:
        raise KeyError(f"{len(missing)} generator variable(s) missing from the TF checkpoint, e.g. {missing[:3]}")
    return state
