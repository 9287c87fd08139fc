enum _PlaceholderAzureTables {}
