"""城市生命体征指标、阈值与告警 / vital-sign indicators, thresholds and graded alarms."""
