// OutOfMemoryCollection: the out-of-memory and address-space tests run alone, after the parallel
// stress tests (xunit runs a collection with parallelization off by itself): they read
// /proc/self/maps and VmSize around a heap's life, and every heap starts at the same arena hint
// (0x00c0<<32), so a heap made meanwhile by another test would blur what they watch.
using Xunit;

namespace GoAlloc.Stress.Tests;

[CollectionDefinition(nameof(OutOfMemoryCollection), DisableParallelization = true)]
public sealed class OutOfMemoryCollection;
