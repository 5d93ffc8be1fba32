// GoAlloc.Bench: BenchmarkDotNet entry point. `dotnet run -c Release --project bench -- --filter '*'`
// runs everything; `--job short` for a quick look.
using BenchmarkDotNet.Running;

namespace GoAlloc.Bench;

public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
