"""File primitives every layer uses: atomic writes and copies, the lock, temporary files."""
