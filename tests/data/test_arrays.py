"""derain.data.arrays: the one numpy <-> tensor layout change and the one downscale-to-fit."""

from __future__ import annotations

import numpy as np
import torch

from conftest import smooth_image
from derain.data.arrays import fit_within, to_chw, to_float, to_hwc


def test_layout_round_trip_and_uint8_scaling() -> None:
    rgb = smooth_image(5, 7)
    x = to_chw(rgb)
    assert x.shape == (3, 5, 7) and x.dtype == torch.float32 and x.is_contiguous()
    np.testing.assert_array_equal(to_hwc(x), rgb.astype(np.float32))
    clip = to_chw([rgb, rgb[::-1]])
    assert clip.shape == (2, 3, 5, 7)
    eight = np.array([[[0, 128, 255]]], dtype=np.uint8)
    assert to_float(eight).tolist() == [[[0.0, np.float32(128) * np.float32(1 / 255), 1.0]]]


def test_fit_within_only_shrinks_and_keeps_the_aspect() -> None:
    rgb = smooth_image(40, 100)
    assert fit_within(rgb, None) is rgb and fit_within(rgb, 100) is rgb
    small = fit_within(rgb, 50)
    assert small.shape == (20, 50, 3) and small.dtype == rgb.dtype
    assert abs(float(small.mean()) - float(rgb.mean())) < 1e-2  # area filter keeps the mean
