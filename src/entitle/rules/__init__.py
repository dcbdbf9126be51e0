"""The rule language and its two engines. Pure: no I/O beyond reading rule files."""
