"""How good is a scorer: benchmark splits, transfer to unseen KGs, the self-check and the per-KG leaderboard, intervals."""
