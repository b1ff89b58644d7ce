"""The user's work tree: paths resolved safely, data placed, pointer files and .gitignore."""
