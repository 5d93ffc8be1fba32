// Seeded, production half: the hook through which the seeded-bug build plants
// HeapDistanceNotClamped (src/Allocator/SeededBugs.cs) in the shared SweepPacing, here off: a
// constant false the JIT folds away, so this build runs the pacing as written. The seeded build
// (-p:SeededBugs=true) compiles Seeded.On.cs instead. The Optimized's hooks are its own Seeded
// class (src/Optimized/Seeded/). No Go file: Go has no seeded bugs.
#if !SEEDED_BUGS
using System.Runtime.CompilerServices;

namespace GoAlloc;

// Stryker disable all : the hook is the seeded build's; the seeded-bug catalog tests it.
internal static class Seeded
{
    // SweepPacing.PagesPerByte: heapDistance without its one-page floor.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HeapDistanceNotClamped() => false;
}
#endif
