import torch
from torch import nn

from sagan.models.dcgan import apply_spectral_norm
from sagan.train.overfit import OverfitMonitor


class Memoriser(nn.Module):
    """A 'discriminator' that says +2 for images it has seen (first pixel > 0), -1 otherwise."""

    def forward(self, x, y=None):
        return torch.where(x[:, 0, 0, 0] > 0, 2.0, -1.0)


def test_r_t_is_the_mean_sign_over_the_interval_and_resets():
    train = (torch.ones(4, 1, 2, 2), None)
    heldout = (-torch.ones(4, 1, 2, 2), None)
    monitor = OverfitMonitor(Memoriser(), train, heldout)
    monitor.observe(torch.tensor([1.0, 2.0, -3.0, 4.0]))  # mean sign 0.5
    monitor.observe(torch.tensor([1.0, 1.0, 1.0, 1.0]))  # mean sign 1.0
    row = monitor.row()
    assert row["r_t"] == 0.75
    assert (row["d_train"], row["d_heldout"], row["d_gap"]) == (2.0, -1.0, 3.0)
    monitor.observe(torch.tensor([-1.0, -1.0]))
    assert monitor.row()["r_t"] == -1.0  # a new interval, not a running mean


class TinyD(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 16)  # big enough that power iteration has not converged

    def forward(self, x, y=None):
        return self.linear(x.flatten(1)).sum(1)


def test_measuring_does_not_change_a_spectrally_normalised_d():
    torch.manual_seed(0)
    D = apply_spectral_norm(TinyD())
    before = {k: v.clone() for k, v in D.state_dict().items()}
    x = torch.randn(3, 1, 2, 2)
    D.train()
    monitor = OverfitMonitor(D, (x, None), (x, None))
    monitor.row()
    assert D.training  # restored
    for k, v in D.state_dict().items():
        assert torch.equal(v, before[k]), k  # no power-iteration update of u, v
    D(x)  # ...which a training-mode pass does make: the check above can fail
    assert any(not torch.equal(v, before[k]) for k, v in D.state_dict().items())


def test_a_restored_monitor_counts_the_interval_it_was_saved_in():
    """A run resumed mid-interval logs the r_t it would have logged unstopped."""
    batch = (torch.ones(1, 1, 2, 2), None)
    saved = OverfitMonitor(Memoriser(), batch, batch)
    saved.observe(torch.tensor([1.0, 1.0]))  # mean sign 1.0, before the kill
    state = saved.state_dict()
    saved.observe(torch.tensor([-1.0]))  # after it: must not leak into the saved state
    resumed = OverfitMonitor(Memoriser(), batch, batch)
    resumed.load_state_dict(state)
    resumed.observe(torch.tensor([-1.0, 1.0]))  # mean sign 0.0
    assert resumed.row()["r_t"] == 0.5
