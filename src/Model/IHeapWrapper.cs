// IHeapWrapper: a heap that forwards every call to another heap (ModelCheckedHeap; the test doubles
// in tests/Model), so a report can name the implementation underneath. No Go counterpart.
namespace GoAlloc.Model;

/// <summary>A heap decorator: <see cref="Inner"/> is the heap its calls go to.</summary>
public interface IHeapWrapper
{
    /// <summary>The heap this one forwards to.</summary>
    IHeap Inner { get; }
}
