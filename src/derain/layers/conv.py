"""Convolution building blocks shared by the model families."""

from __future__ import annotations

from torch import nn

__all__ = ["ConvAct", "DoubleConv", "ResidualBlock"]


class ConvAct(nn.Sequential):
    """``k x k`` convolution (same padding) followed by an activation."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, *, act: type[nn.Module] = nn.ReLU) -> None:
        super().__init__(nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2), act())


class DoubleConv(nn.Sequential):
    """Two :class:`ConvAct` -- the VGG / U-Net stage."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, *, act: type[nn.Module] = nn.ReLU) -> None:
        super().__init__(ConvAct(in_ch, out_ch, kernel, act=act), ConvAct(out_ch, out_ch, kernel, act=act))


class ResidualBlock(nn.Module):
    """``x + conv(act(conv(x)))`` at constant width."""

    def __init__(self, channels: int, kernel: int = 3, *, act: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, kernel, padding=kernel // 2),
            act(),
            nn.Conv2d(channels, channels, kernel, padding=kernel // 2),
        )

    def forward(self, x):
        return x + self.body(x)
