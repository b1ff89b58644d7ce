"""What hpcfair stores: objects (store, tree), records, refs and the stat cache (state)."""
