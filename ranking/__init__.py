"""Every scorer behind one contract: baselines, the intent encoder, CF and the hybrid ranker."""
