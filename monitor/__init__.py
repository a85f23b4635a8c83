"""spasm-monitor: objective home measurement of chronic muscle spasms."""
