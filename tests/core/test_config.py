from dataclasses import dataclass, field
from typing import Literal

import pytest

from vidgan.core.config import ConfigError, deep_merge, from_dict, parse_override, set_dotted, to_dict


@dataclass(frozen=True)
class Inner:
    lr: float = 1e-4
    betas: tuple[float, float] = (0.0, 0.9)
    levels: tuple[int, ...] = (2, 2, 2)


@dataclass(frozen=True)
class Outer:
    name: str = "x"
    mode: Literal["a", "b"] = "a"
    steps: int = 10
    flag: bool = False
    inner: Inner = field(default_factory=Inner)


def test_round_trip():
    cfg = Outer(mode="b", inner=Inner(levels=(1, 2)))
    assert from_dict(Outer, to_dict(cfg)) == cfg
    assert to_dict(cfg)["inner"]["levels"] == [1, 2]


def test_unknown_key_suggests_nearest():
    with pytest.raises(ConfigError, match=r"inner\.lrr.*did you mean 'lr'"):
        from_dict(Outer, {"inner": {"lrr": 1.0}})


@pytest.mark.parametrize(
    "data, match",
    [
        ({"steps": "ten"}, "steps: expected an integer"),
        ({"steps": 1.5}, "steps: expected an integer"),
        ({"flag": 1}, "flag: expected true/false"),
        ({"mode": "c"}, "mode: 'c' is not one of 'a', 'b'"),
        ({"inner": {"betas": [0.1]}}, r"inner\.betas: expected 2 items"),
        ({"inner": {"levels": 3}}, r"inner\.levels: expected a list"),
    ],
)
def test_type_errors_name_the_key(data, match):
    with pytest.raises(ConfigError, match=match):
        from_dict(Outer, data)


def test_coercion():
    cfg = from_dict(Outer, {"steps": 3.0, "inner": {"lr": 1, "levels": [4]}})
    assert cfg.steps == 3 and isinstance(cfg.inner.lr, float) and cfg.inner.levels == (4,)


def test_overrides():
    assert parse_override("train.batch_size=8") == (["train", "batch_size"], 8)
    assert parse_override("a.b=1e-4") == (["a", "b"], 1e-4)
    assert parse_override("data.source=moving-digits") == (["data", "source"], "moving-digits")
    assert parse_override("x=[2,2,2]") == (["x"], [2, 2, 2])
    assert parse_override("x=true") == (["x"], True)
    with pytest.raises(ConfigError):
        parse_override("novalue")
    d = {"a": {"b": 1}}
    set_dotted(d, ["a", "c", "d"], 2)
    assert d == {"a": {"b": 1, "c": {"d": 2}}}
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}
