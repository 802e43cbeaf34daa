"""Print the configuration table for the README: ``python -m config``."""

from config import markdown_table

print(markdown_table())
