// Seeded, seeded half: HeapDistanceNotClamped (src/Allocator/SeededBugs.cs) behind the hook
// SweepPacing calls (Seeded.Off.cs is the production half, where it is off). Compiled only into
// the seeded-bug build (-p:SeededBugs=true). No Go file.
#if SEEDED_BUGS
namespace GoAlloc;

internal static class Seeded
{
    public static bool HeapDistanceNotClamped() => SeededBugs.On(SeededBug.HeapDistanceNotClamped);
}
#endif
