"""The Think Twice desktop interface: the only layer that uses Qt."""
