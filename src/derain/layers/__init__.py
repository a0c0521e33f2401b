"""Shared building blocks (one concept per file)."""

from derain.layers.conv import ConvAct, DoubleConv, ResidualBlock
from derain.layers.upsample import BilinearUpsample2x

__all__ = ["BilinearUpsample2x", "ConvAct", "DoubleConv", "ResidualBlock"]
