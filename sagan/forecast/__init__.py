"""What a study will cost before it runs (``sagan estimate``): on top of study and cost."""
