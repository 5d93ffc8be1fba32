// IPersistentAlloc: the one call FixAlloc makes into a heap's metadata allocator (mirrors the
// persistentalloc(size, align, stat) signature of runtime/malloc.go). Each heap keeps its own
// PersistentAlloc (the Reference reserves growing regions lazily, the Optimized maps chunks under
// its own lock); FixAlloc, shared, takes its chunks through this.
// Differs from Go: an interface where Go calls the one global function (no stat argument).
namespace GoAlloc;

/// <summary>persistentalloc: zeroed off-heap metadata memory that lives as long as the heap.</summary>
internal interface IPersistentAlloc
{
    /// <summary>Zeroed size bytes aligned to align (a power of two, at most a page); OutOfMemoryException when the OS refuses.</summary>
    nint Alloc(nint size, nint align);
}
