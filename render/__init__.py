"""Board -> frame (``frame``), frame -> board (``reader``), game -> video (``video``),
SGF corpus -> frame shards on disk (``corpus``), and the ``render`` subcommand (``cli``)."""
