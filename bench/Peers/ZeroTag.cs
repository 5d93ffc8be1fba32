// Zeroing variants as type arguments: a static abstract constant the JIT folds per instantiation,
// so "zeroed" (calloc / needzero true) and "raw" (malloc / noscan needzero false) are separate bodies.
namespace GoAlloc.Peers;

public interface IZeroTag
{
    static abstract bool Zero { get; }
}

public readonly struct Zeroed : IZeroTag
{
    public static bool Zero => true;
}

public readonly struct Raw : IZeroTag
{
    public static bool Zero => false;
}
