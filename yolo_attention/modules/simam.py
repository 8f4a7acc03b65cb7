"""SimAM: parameter-free 3-D attention weights from a closed-form energy function of each neuron.

SimAM: A Simple, Parameter-Free Attention Module for Convolutional Neural Networks — ICML 2021 (PMLR 139:11863)
Differs from the paper: nothing in the equation (its eq. 5 and the official code: `x * sigmoid(E_inv)`, with
`E_inv = (x - mu)^2 / (4 * (var + lambda)) + 0.5`, `mu` and `var` per channel over the spatial positions, `var` summed
over `n = H * W - 1`). On a 1x1 feature map `n` would be 0 (the official code divides 0 by 0): `n` is floored at 1,
where every weight is then `sigmoid(0.5)`. The paper is not on arXiv.

Identity-safe insertion: SimAM has no parameters of its own. Like every attention module here, the plugin inserts it
into a pretrained model through the residual gate of `AttentionModule.enable_residual_gate` (`x + a * (attend(x) - x)`
with `a = 0`, the default `attn_init="identity"` of a weight transfer), which is then SimAM's only parameter; with
`attn_init="paper"` it has none.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from .base import WeightingAttention
from .gates import make_gate
from .registry import register_module

__all__ = ["SimAM"]


@register_module
class SimAM(WeightingAttention):
    """SimAM: `x * gate((x - mu)^2 / (4 * (var + e_lambda)) + 0.5)`, per channel, no parameters.

    Attributes:
        e_lambda (float): The regulariser lambda of the energy function.
        gate (nn.Module): Gate turning the inverse energies into weights.

    Examples:
        >>> import torch
        >>> m = SimAM(64)
        >>> m.e_lambda, m.num_params
        (0.0001, 0)
        >>> m(torch.randn(2, 64, 10, 12)).shape
        torch.Size([2, 64, 10, 12])
    """

    yaml_args = ("e_lambda",)
    paper = "SimAM: A Simple, Parameter-Free Attention Module for Convolutional Neural Networks — ICML 2021"

    def __init__(self, c1: int, e_lambda: float = 1e-4, gate: str = "sigmoid") -> None:
        """Initialize SimAM.

        Args:
            c1 (int): Number of input channels (nothing depends on it).
            e_lambda (float): Lambda of the energy function, a number in (0, 1); the paper uses 1e-4 (it searched
                1e-1 to 1e-6). A larger value flattens the weights towards `gate(0.5)`.
            gate (str): Gate name, see `gates.GATES`.
        """
        super().__init__(c1)
        value = e_lambda
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            value = None
        if value is None or not 0 < value < 1:
            raise ValueError(
                f"{type(self).__name__}: e_lambda must be a number in (0, 1) (the paper uses 1e-4), got {e_lambda!r}"
            )
        self.e_lambda = float(e_lambda)
        self.gate_name = gate
        self.gate = make_gate(gate)

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """The inverse energy `E_inv` of every neuron: high for neurons that stand out from their channel.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, C, H, W) inverse energies, >= 0.5.
        """
        d = (x - x.mean((2, 3), keepdim=True)).pow(2)
        # sum(d) / n as mean(d) * hw / n: a sum over a large map can overflow float16 where the mean does not.
        # hw = H * W is computed as a tensor so that exported graphs keep H and W dynamic; n is floored at 1.
        hw = torch.ones_like(x[:1, :1]).sum((2, 3), keepdim=True)
        var = d.mean((2, 3), keepdim=True) * (hw / (hw - 1).clamp_min(1))
        return d / (4 * (var + self.e_lambda)) + 0.5

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """The weights `gate(E_inv)`.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, C, H, W) weights; `attend(x)` is `x` times them.
        """
        return self.gate(self.energy(x))

    def _settings(self) -> dict[str, Any]:
        return {"e_lambda": self.e_lambda, "gate": self.gate_name}
