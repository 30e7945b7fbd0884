package ginfresh

// MemorySweepBatch is how many due records one write to a memory-store
// shard drops at most, for the tests of incremental expiry.
const MemorySweepBatch = sweepBatch
