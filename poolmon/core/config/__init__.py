"""`poolmon.toml`, purely: the schema of every setting, checking values, and merging the layers.

No file or environment is read here (that is `poolmon.runtime.config`); these functions take
text and mappings and return values with their origins, so every rule is testable on its own.
"""
