"""The model zoo. Registered through the ``pdebench.plugins`` entry point ``builtin_models``."""
