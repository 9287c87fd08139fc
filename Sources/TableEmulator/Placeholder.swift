enum _PlaceholderTableEmulator {}
