"""Label-conditioned self-attention: the SAGAN block whose query and key get a learned class
embedding, for "more precise semantic control" in a class-conditional GAN.

SAGAN's block (Zhang et al. 2019, eq. 1-3) computes s_ij = q_i^T k_j with q = W_q x and
k = W_k x. Here a class embedding e_y (Ck channels, one row per class) is added to both at every
position, the additive conditioning of conditional BN (de Vries et al. 2017) and of
the class embeddings of BigGAN (Brock et al. 2019), moved into the attention logits:

    s_ij = (q_i + e_y)^T (k_j + e_y) = q_i^T k_j + e_y^T k_j + [q_i^T e_y + e_y^T e_y]

The bracket is the same for every key j and cancels in the softmax over j, so the class acts
through e_y^T k_j: a per-class saliency of each key position, shared by all queries ("for a 7,
look at the stroke features"). e_y starts at 0, so at initialisation the block is SAGAN's for
every class and the only difference an ablation measures is what the embedding learns.
"""

from dataclasses import replace
from functools import partial

import torch
from torch import Tensor, nn

from sagan.models import VariantSpec
from sagan.nn.attention import KEY_RATIO, SelfAttention2d, check_attention
from sagan.registry import register_variant
from variants._slots import at_resolutions


class LabelAttention2d(SelfAttention2d):
    """SAGAN block over (B, C, H, W) whose q and k get a class embedding; forward(x, y), y (B,)."""

    takes_labels = True  # slots call it as block(x, y) (sagan.models.spec.run_block)

    def __init__(self, channels: int, num_classes: int, **options) -> None:
        super().__init__(channels, **options)
        self.label = nn.Embedding(num_classes, self.query.out_channels)  # (K, Ck)
        nn.init.zeros_(self.label.weight)

    def _labelled_qkv(self, x: Tensor, y: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        if y is None or y.shape != (x.shape[0],):
            got = None if y is None else tuple(y.shape)
            raise ValueError(f"label attention needs y (B,) = ({x.shape[0]},) class ids, got {got}")
        q, k, v = self._qkv(x)  # q (B, N, Ck), k (B, M, Ck), v (B, M, Cv)
        e = self.label(y)[:, None, :]  # (B, 1, Ck): the same at every position
        return q + e, k + e, v

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.attend(x, *self._labelled_qkv(x, y))

    @torch.no_grad()
    def attention_maps(self, x: Tensor, queries: Tensor, y: Tensor | None = None) -> Tensor:
        """As SAGAN's (B, Q, h, w) maps, for the classes y (B,) the block was called with."""
        q, k, _ = self._labelled_qkv(x, y)
        return self.weights_of(x, q[:, queries], k)


@register_variant("label_attention")
def label_attention(
    g_resolutions: list[int] = (16,),  # type: ignore[assignment]
    d_resolutions: list[int] = (16,),  # type: ignore[assignment]
    impl: str = "auto",
    form: str = "paper",
    key_ratio: int = KEY_RATIO,
) -> VariantSpec:
    """SAGAN attention with a class embedding added to query and key (needs model.conditional).

    s_ij = (q_i + e_y)^T (k_j + e_y): the class acts through e_y^T k_j, a per-class saliency
    of the keys; e_y starts at 0 (the block is SAGAN's at initialisation). The blocks in G and
    D both get the labels (G's conditioning ids, D's real or conditioning ids). impl, form and
    key_ratio as for sagan. Needs class labels: model.conditional: true on a conditional
    backbone (resnet) and a labelled dataset (digits: 10 classes).
    """
    check_attention(impl=impl, form=form, key_ratio=key_ratio)
    block = partial(LabelAttention2d, impl=impl, form=form, key_ratio=key_ratio)
    return replace(at_resolutions(block, g_resolutions, d_resolutions), labels=True)
