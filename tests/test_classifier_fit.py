"""The helpers the domain extractors share: batched features and their RMS scale."""

import torch

from sagan.metrics.classifier_fit import rms_scale
from sagan.metrics.extractors import in_batches


def test_rms_scale_is_per_feature_and_one_for_a_feature_that_never_fires():
    features = torch.tensor([[3.0, 0.0], [4.0, 0.0]])
    assert torch.allclose(rms_scale(features), torch.tensor([12.5**0.5, 1.0]))


def test_in_batches_sees_float_batches_of_the_size_asked_and_keeps_their_order():
    seen = []

    def double(x):
        seen.append((len(x), x.dtype))
        return 2 * x

    pixels = torch.arange(5, dtype=torch.uint8)[:, None]
    out = in_batches(double, pixels, batch_size=2)
    assert seen == [(2, torch.float32), (2, torch.float32), (1, torch.float32)]
    assert out.squeeze(1).tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
