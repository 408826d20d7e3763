"""Insight (接诉即办 / 未诉先办 / 每月一题): KPIs by region, department and period, from the case history."""
