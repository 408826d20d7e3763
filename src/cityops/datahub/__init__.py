"""The data hub (数字底座): catalogue, dataset imports and quality checks, sharing, and the base registers."""
