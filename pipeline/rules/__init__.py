"""Rules the assets, providers, briefs and the estimate share: pure functions below all of them."""
