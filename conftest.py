# Nameko services run on eventlet; its pytest plugin no longer patches, so we do, first.
import eventlet

eventlet.monkey_patch()

pytest_plugins = ["demeu_common.testing"]
