"""From report to routed case: locate, classify, fuse, route, set the clock. Pure steps plus the worker."""
