"""Entrypoints of payments beyond what demeu_common offers."""
from nameko.timer import Timer


class ConfiguredTimer(Timer):
    """Nameko's ``@timer`` with its interval read from config when the container starts, so
    operators (and tests) set it without code: ``@sweep("POOL_SWEEP_SECONDS", 30)``."""

    def __init__(self, config_key, default, **kwargs):
        self.config_key, self.default = config_key, default
        super().__init__(interval=default, **kwargs)

    def setup(self):
        self.interval = float(self.container.config.get(self.config_key) or self.default)
        super().setup()


sweep = ConfiguredTimer.decorator
