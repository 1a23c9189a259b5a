"""Embedded paired data: label / edge maps derived frame by frame from the embedded sets."""

from __future__ import annotations

import numpy as np

from vidgan.data.paired_synthetic import CITYSCAPES_COLOURS, DERIVED, edge_maps, label_maps
from vidgan.data.synthetic import SyntheticVideos


def test_label_maps_are_palette_only_and_follow_the_shapes():
    frames = SyntheticVideos("bouncing-shapes", num_videos=4, video_frames=8, size=48).video(1, [0, 3, 7])
    labels = label_maps(frames)
    assert labels.shape == frames.shape and labels.dtype == np.uint8
    palette = {tuple(c) for c in CITYSCAPES_COLOURS.values()}
    assert {tuple(c) for c in labels.reshape(-1, 3)} <= palette
    road = np.all(labels == CITYSCAPES_COLOURS["road"], -1)
    assert 0.2 < road.mean() < 1.0  # background is road, the shapes are something else
    assert not np.array_equal(labels[0], labels[2])  # the shapes move
    assert np.array_equal(label_maps(frames), labels)  # a pure function


def test_edge_maps_and_registry():
    frames = SyntheticVideos("moving-digits", num_videos=2, video_frames=4, size=32).video(0, [0, 1])
    edges = edge_maps(frames)
    assert set(np.unique(edges)) <= {0, 255} and edges.max() == 255
    assert np.array_equal(edges[..., 0], edges[..., 2])
    assert DERIVED["bouncing-shapes-labels"][0] == "bouncing-shapes"
    assert DERIVED["moving-digits-edges"][0] == "moving-digits"
