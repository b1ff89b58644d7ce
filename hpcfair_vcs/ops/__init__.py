"""One module per user verb; hpcfair_vcs.api re-exports them."""
