"""Alert rules over the record stream: spasm spikes, long tonic spasms, device offline, poor signal."""
