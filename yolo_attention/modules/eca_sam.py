"""ECA followed by SAM: the sequential X -> ECA(X) -> SAM(ECA(X)) block of the FeatherFace design.

ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks — arXiv:1910.03151;
CBAM: Convolutional Block Attention Module — arXiv:1807.06521
Differs from the papers: neither defines this pairing; it is CBAM with ECA's 1-D convolution in place of the channel
MLP. Each half follows its own paper (see eca.py and sam.py).
"""

from __future__ import annotations

from typing import Any

import torch

from .base import AttentionModule, check_spatial_kernel_size, gated_sequence
from .eca import ECA, check_eca_kernel_size
from .registry import register_module
from .sam import SAM

__all__ = ["ECASAM"]


@register_module
class ECASAM(AttentionModule):
    """ECA channel attention followed by SAM spatial attention: `sam(eca(x))`.

    Each half can be switched off on its own through its `enabled` attribute (or `set_attention`), the whole block
    through `ECASAM.enabled`.

    Attributes:
        eca (ECA): Channel attention, applied first.
        sam (SAM): Spatial attention, applied second.

    Examples:
        >>> import torch
        >>> m = ECASAM(64)
        >>> m.eca.kernel_size, m.sam.kernel_size
        (3, 7)
        >>> m(torch.randn(1, 64, 16, 24)).shape
        torch.Size([1, 64, 16, 24])
    """

    yaml_args = ("eca_kernel_size", "sam_kernel_size")
    paper = (
        "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks — arXiv:1910.03151; "
        "CBAM: Convolutional Block Attention Module — arXiv:1807.06521"
    )

    def __init__(self, c1: int, eca_kernel_size: int | None = None, sam_kernel_size: int = 7) -> None:
        """Initialize ECASAM.

        Args:
            c1 (int): Number of input channels.
            eca_kernel_size (int | None): Positive odd ECA kernel size up to `2 * c1 - 1`, or None to adapt it to `c1`.
            sam_kernel_size (int): Positive odd SAM kernel size, at most `MAX_SPATIAL_KERNEL`.
        """
        super().__init__(c1)
        owner = type(self).__name__
        # Validate here so that errors name ECASAM's arguments, not the submodules'.
        if eca_kernel_size is not None:
            check_eca_kernel_size(owner, "eca_kernel_size", eca_kernel_size, self.c1)
        check_spatial_kernel_size(owner, "sam_kernel_size", sam_kernel_size)
        self.eca = ECA(self.c1, kernel_size=eca_kernel_size)
        self.sam = SAM(self.c1, kernel_size=sam_kernel_size)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ECA, then SAM.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): Output of the same shape and dtype.
        """
        return self.sam(self.eca(x))

    def gated(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """`x + g * (attend(x) - x)`, the gate folded into SAM's weight map (`gated_sequence`)."""
        return gated_sequence(x, g, self.eca, self.sam)

    def _settings(self) -> dict[str, Any]:
        return {"eca_kernel_size": self.eca.kernel_size, "sam_kernel_size": self.sam.kernel_size}
