"""Discriminator overfitting, watched during training.

r_t = E[sign(D(x_train))] over the training reals of each logging interval (Karras et al.
2020, "Training GANs with limited data", eq. 1): near 0 while D cannot tell training reals
from fakes, toward 1 as it overfits them. Beside it, D's mean output on a fixed batch of
training reals and on a fixed batch of held-out reals (never trained on), and their gap.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class OverfitMonitor:
    def __init__(
        self,
        D: nn.Module,
        train: tuple[Tensor, Tensor | None],
        heldout: tuple[Tensor, Tensor | None],
    ) -> None:
        self.D, self.train, self.heldout = D, train, heldout
        self.sign_sum: Tensor | float = 0.0  # stays on the device: no sync per step
        self.steps = 0

    def observe(self, real_logits: Tensor) -> None:
        self.sign_sum = self.sign_sum + real_logits.detach().sign().mean()
        self.steps += 1

    def state_dict(self) -> dict:
        """The open interval's running sum, so a resumed run's next r_t counts it."""
        return {"sign_sum": torch.as_tensor(self.sign_sum), "steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.sign_sum, self.steps = state["sign_sum"], state["steps"]

    @torch.no_grad()
    def row(self) -> dict[str, float]:
        """The interval's r_t and the train / held-out outputs of D now; resets the interval."""
        was_training = self.D.training
        self.D.eval()  # no spectral-norm power iteration: this pass must not change D
        d_train = self.D(*self.train).mean().item()
        d_heldout = self.D(*self.heldout).mean().item()
        self.D.train(was_training)
        r_t = float(self.sign_sum / max(self.steps, 1))
        self.sign_sum, self.steps = 0.0, 0
        return {
            "r_t": r_t,
            "d_train": d_train,
            "d_heldout": d_heldout,
            "d_gap": d_train - d_heldout,
        }
