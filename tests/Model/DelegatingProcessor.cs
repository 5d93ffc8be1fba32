// DelegatingProcessor: the IProcessor half of DelegatingHeap: forwards every call to the inner
// heap's processor; a subclass overrides the answer it changes (an address, an exception, its Id).
namespace GoAlloc.Model;

public class DelegatingProcessor(IProcessor inner) : IProcessor
{
    protected IProcessor InnerProcessor { get; } = inner;
    public virtual int Id => InnerProcessor.Id;
    public virtual nint Alloc(long size, bool noscan = false, bool needzero = true) => InnerProcessor.Alloc(size, noscan, needzero);
    public virtual void Flush() => InnerProcessor.Flush();
    public virtual void Release() => InnerProcessor.Release();
}
