"""Dataset adapters and generators. Registered through the entry point ``builtin_datasets``."""
