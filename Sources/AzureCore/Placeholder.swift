enum _PlaceholderAzureCore {}
