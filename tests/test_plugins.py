"""Adding a variant is one new module: registered on import, trained with no core edit."""

import textwrap

import pytest

from sagan.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from sagan.errors import ConfigError
from sagan.registry import VARIANTS, load_plugins
from sagan.train.trainer import train

PLUGIN = textwrap.dedent('''
    from sagan.models import VariantSpec
    from sagan.nn.attention import SelfAttention2d
    from sagan.registry import register_variant


    @register_variant("throwaway_attention")
    def throwaway(resolution: int = 8) -> VariantSpec:
        """A variant that lives outside the repository."""
        return VariantSpec(g_slots={resolution: SelfAttention2d})
''')


@pytest.fixture
def plugin_module(install_plugin):
    return install_plugin("my_plugin_variant", PLUGIN, "throwaway_attention")


def test_a_variant_from_a_plugin_module_trains(plugin_module, digits16, tmp_path):
    cfg = RunConfig(
        variant="throwaway_attention",
        plugins=[plugin_module],
        data=DataConfig(path=str(digits16), size=32),
        model=ModelConfig(width=8, z_dim=16),
        train=TrainConfig(iterations=2, batch_size=8, log_every=1),
    )
    status = train(cfg, tmp_path / "run", progress=False)
    assert status["state"] == "done" and status["iterations"] == 2
    assert "throwaway_attention" in VARIANTS.names()
    log = (tmp_path / "run" / "log.csv").read_text()
    assert "gamma:G.body.0.blocks.8" in log


def test_a_missing_plugin_module_is_a_config_error():
    with pytest.raises(ConfigError, match="no_such_plugin_xyz.*plugins"):
        load_plugins(["no_such_plugin_xyz"])
