// The `alloc` command (placeholder entry point; the trace replayer lands next).
namespace GoAlloc.Cli;

public static class Program
{
    public static int Main(string[] args) => 0;
}
