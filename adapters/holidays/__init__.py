"""China's statutory rest days: the published schedule, the rule itself, and operators' files."""
