"""Shared building blocks (one concept per file)."""

from derain.layers.conv import ConvAct, DoubleConv, ResidualBlock

__all__ = ["ConvAct", "DoubleConv", "ResidualBlock"]
